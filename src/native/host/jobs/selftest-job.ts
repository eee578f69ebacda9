// The self-test job: on each requested execution provider, build a one-node
// ONNX graph, create a session and run it, checking the numbers. A small real
// job for the Jobs page and for `deepen doctor`.
import type { JobContext } from './job-types';
import type { ProviderName } from '../../../shared/contract/engine';

export interface SelftestResult {
  providers: { name: ProviderName; ok: boolean; ms: number; error?: string }[];
}

export async function runSelftestJob(input: { providers?: ProviderName[] }, ctx: JobContext): Promise<SelftestResult> {
  const { probeProviders } = await import('../../onnx/runtime');
  const names = input.providers?.length ? input.providers : (['cpu'] as ProviderName[]);
  const out: SelftestResult['providers'] = [];
  for (const [i, name] of names.entries()) {
    ctx.throwIfCancelled();
    ctx.progress(i / names.length, `Running a one-node graph on ${name}`);
    const [probe] = await probeProviders([name]);
    const ms = Math.round(probe.ms);
    if (probe.ok) {
      out.push({ name, ok: true, ms });
      ctx.log(`${name}: the graph ran and gave the right sum (${ms} ms)`);
    } else {
      out.push({ name, ok: false, ms, error: probe.reason });
      ctx.log(`${name}: ${probe.reason}`, 'warn');
    }
  }
  ctx.progress(1, 'Self-test finished');
  if (out.every((p) => !p.ok)) throw new Error(`The self-test failed on every provider: ${out.map((p) => `${p.name}: ${p.error}`).join('; ')}`);
  return { providers: out };
}
