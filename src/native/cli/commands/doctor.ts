import type { Command } from '../command';
import { table } from '../command';
import { followJob } from '../progress';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check this machine: versions, execution providers, data folder, database',
  help: `Usage: deepen doctor [--json] [--install-cuda]

Prints Node and ONNX Runtime versions, the execution providers that actually
initialised here (each was asked to run a one-node graph), the data folder and
the database schema version.

  --json          print one JSON object
  --install-cuda  fetch the CUDA provider with onnxruntime-node's own installer
                  (Linux/Windows x64 with an NVIDIA driver; needs network)`,
  options: { json: { type: 'boolean' }, 'install-cuda': { type: 'boolean' } },
  async run(ctx) {
    const host = ctx.host();
    if (ctx.values['install-cuda']) {
      const { jobId } = await host.call('engine.installCuda', {});
      await followJob(host, jobId, { quiet: ctx.json, isTTY: ctx.isTTY });
      ctx.say('CUDA provider installed.');
    }
    const info = await host.call('engine.info', {});
    const providers = info.providers.filter((p) => p.ok).map((p) => p.name);
    if (ctx.json) {
      ctx.printJson({ ...info, providers, providerStatus: info.providers });
      return;
    }
    ctx.say(
      table([
        ['Deepen', info.version],
        ['Node.js', `${info.node} (${info.platform}-${info.arch}, ${info.cpus} CPUs, ${(info.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB)`],
        ['ONNX Runtime', info.ort],
        ['Data folder', info.dataDir],
        ['Database', `${info.databaseFile} (schema ${info.schemaVersion})`],
        ['Provider', `${info.activeProvider}${info.fallbackReason ? ` — ${info.fallbackReason}` : ''}`],
      ]),
    );
    ctx.say('');
    ctx.say(table(info.providers.map((p) => [p.name, p.ok ? 'ok' : 'unavailable', p.ok ? `${Math.round(p.ms ?? 0)} ms` : p.reason ?? '']), ['provider', 'status', 'detail']));
    if (info.cudaInstallable && !providers.includes('cuda')) ctx.say('\nAn NVIDIA driver is present: `deepen doctor --install-cuda` fetches the CUDA provider.');
  },
};
