// The self-test job: on each requested execution provider, build a one-node
// ONNX graph, create a session and run it, checking the numbers; optionally
// measure MatMul throughput for a while (GFLOP/s per provider). A small real
// job for the Jobs page, `deepen doctor` and the job-lifecycle tests.
import type { JobContext } from './job-types';
import type { ProviderName } from '../../../shared/contract/engine';

export interface SelftestInput {
  providers?: ProviderName[];
  /** run a MatMul throughput measurement this long on each working provider */
  benchmarkMs?: number;
}

export interface SelftestResult {
  providers: { name: ProviderName; ok: boolean; ms: number; error?: string; gflops?: number }[];
}

const N = 256; // (N, N) @ (N, N) per run: 2·N³ flops

export async function runSelftestJob(input: SelftestInput, ctx: JobContext): Promise<SelftestResult> {
  const rt = await import('../../onnx/runtime');
  const names = input.providers?.length ? input.providers : (['cpu'] as ProviderName[]);
  const benchMs = Math.max(0, Math.min(input.benchmarkMs ?? 0, 600_000));
  const out: SelftestResult['providers'] = [];
  const share = 1 / names.length;
  for (const [i, name] of names.entries()) {
    ctx.throwIfCancelled();
    ctx.progress(i * share, `Running a one-node graph on ${name}`);
    const [probe] = await rt.probeProviders([name]);
    const ms = Math.round(probe.ms);
    if (!probe.ok) {
      out.push({ name, ok: false, ms, error: probe.reason });
      ctx.log(`${name}: ${probe.reason}`, 'warn');
      continue;
    }
    ctx.log(`${name}: the graph ran and gave the right sum (${ms} ms)`);
    const entry: SelftestResult['providers'][number] = { name, ok: true, ms };
    if (benchMs > 0) {
      entry.gflops = await measureMatMul(rt, name, benchMs, ctx, (f) => ctx.progress((i + 0.1 + 0.9 * f) * share, `Measuring MatMul throughput on ${name}`));
      ctx.log(`${name}: MatMul ${N}×${N} fp32 at ${entry.gflops.toFixed(1)} GFLOP/s`);
      ctx.metric(`gflops.${name}`, entry.gflops);
    }
    out.push(entry);
  }
  ctx.progress(1, 'Self-test finished');
  if (out.every((p) => !p.ok)) throw new Error(`The self-test failed on every provider: ${out.map((p) => `${p.name}: ${p.error}`).join('; ')}`);
  return { providers: out };
}

async function measureMatMul(
  rt: typeof import('../../onnx/runtime'),
  provider: ProviderName,
  durationMs: number,
  ctx: JobContext,
  progress: (fraction: number) => void,
): Promise<number> {
  const { Graph } = await import('../../onnx/graph');
  const { Ops } = await import('../../onnx/ops');
  const { serializeModel } = await import('../../onnx/serialize');
  const g = new Graph('selftest_matmul');
  const ops = new Ops(g);
  g.output(ops.matMul(g.input('a', 'float32', [N, N]), g.input('b', 'float32', [N, N])), 'c');
  const session = await rt.Session.create(serializeModel(g), { provider });
  try {
    const data = new Float32Array(N * N).map((_, k) => ((k * 7919) % 1000) / 1000 - 0.5);
    const a = rt.hostTensor('float32', [N, N], data);
    const started = performance.now();
    let runs = 0;
    for (;;) {
      ctx.throwIfCancelled();
      await session.run({ a, b: a });
      runs++;
      const elapsed = performance.now() - started;
      progress(Math.min(1, elapsed / durationMs));
      if (elapsed >= durationMs) return (2 * N ** 3 * runs) / (elapsed / 1000) / 1e9;
    }
  } finally {
    await session.dispose();
  }
}
