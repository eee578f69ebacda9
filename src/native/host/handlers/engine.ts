import os from 'node:os';
import { createRequire } from 'node:module';
import { DeepenError } from '../../../shared/errors';
import { engineMethods, type EngineInfo, type ProviderName, type Settings } from '../../../shared/contract/engine';
import { schemaVersion } from '../../data/db';
import { readSettings, writeSettings } from '../../data/settings';
import { cudaInstallable } from '../jobs/install-cuda-job';
import type { ProviderState } from '../providers';
import type { HandlersFor, HostServices } from '../services';

const require = createRequire(import.meta.url);
// The bundle defines __DEEPEN_VERSION__; from source we read package.json.
declare const __DEEPEN_VERSION__: string | undefined;
export const deepenVersion: string = typeof __DEEPEN_VERSION__ !== 'undefined' ? __DEEPEN_VERSION__ : readPackageVersion('../../../../package.json');
const providerNames: ProviderName[] = ['cpu', 'webgpu', 'cuda', 'dml'];

function readPackageVersion(rel: string): string {
  try {
    return (require(rel) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function ortVersion(): string {
  try {
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function getSettings(s: HostServices): Settings {
  const raw = readSettings(s.db);
  return {
    provider: providerNames.includes(raw.provider as ProviderName) ? (raw.provider as ProviderName) : 'cpu',
    theme: raw.theme === 'light' || raw.theme === 'dark' ? raw.theme : 'system',
  };
}

export async function engineInfo(s: HostServices, providers: ProviderState, refresh = false): Promise<EngineInfo> {
  const settings = getSettings(s);
  const probes = await providers.list(refresh);
  const choice = await providers.choose(settings.provider);
  return {
    version: deepenVersion,
    node: process.versions.node,
    electron: process.versions.electron ?? null,
    ort: ortVersion(),
    platform: process.platform,
    arch: process.arch,
    cpus: os.cpus().length,
    totalMemoryBytes: os.totalmem(),
    dataDir: s.dataDir,
    databaseFile: s.databaseFile,
    schemaVersion: schemaVersion(s.db),
    providers: probes,
    preferredProvider: settings.provider,
    activeProvider: choice.active,
    fallbackReason: choice.fallbackReason,
    cudaInstallable: cudaInstallable(),
  };
}

export function engineHandlers(s: HostServices, providers: ProviderState): HandlersFor<typeof engineMethods> {
  return {
    'engine.ping': () => ({ time: Date.now() }),
    'engine.info': (p) => engineInfo(s, providers, !!p?.refresh),
    'engine.selftest': async (p) => {
      const names = p?.providers?.length ? p.providers : (await providers.list()).filter((x) => x.ok).map((x) => x.name);
      const bench = p?.benchmarkMs ? ` + ${Math.round(p.benchmarkMs / 1000)} s MatMul benchmark` : '';
      const job = s.jobs.start('selftest', `Self-test: ${names.join(', ')}${bench}`, { providers: names, benchmarkMs: p?.benchmarkMs });
      return { jobId: job.id };
    },
    'engine.installCuda': () => {
      if (!cudaInstallable()) throw new DeepenError('unsupported', 'No NVIDIA driver was found on this machine, so the CUDA provider cannot be installed here.');
      return { jobId: s.jobs.start('install-cuda', 'Install the CUDA provider', {}).id };
    },
    'settings.get': () => getSettings(s),
    'settings.set': (patch) => {
      const clean: Partial<Settings> = {};
      if (patch.provider !== undefined) {
        if (!providerNames.includes(patch.provider)) throw new DeepenError('bad_request', `Unknown provider "${patch.provider}". Pick one of ${providerNames.join(', ')}.`);
        clean.provider = patch.provider;
      }
      if (patch.theme !== undefined) {
        if (!['system', 'light', 'dark'].includes(patch.theme)) throw new DeepenError('bad_request', `Unknown theme "${patch.theme}".`);
        clean.theme = patch.theme;
      }
      writeSettings(s.db, clean);
      return getSettings(s);
    },
  };
}
