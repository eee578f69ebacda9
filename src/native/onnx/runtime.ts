// The one module that imports onnxruntime-node. Everything else talks to
// sessions through the small wrapper types below, so the rest of the engine
// never sees ORT types and can't call getData() on a gpu-buffer tensor
// (the binding throws a C string there and the process aborts).
//
// Session options, and why. Measured on ORT 1.30, CPU EP, 2 threads, a random
// 125M-parameter Llama (fp32), medians of interleaved repeats on a shared
// 2-core runner (scripts/bench-generate.mjs; .bench/ has the raw runs):
// - `session.intra_op.allow_spinning` '0': workers sleep instead of spinning
//   between ops. 1.3-3x faster prefill and decode whenever anything else wants
//   the cores (e.g. fused decode 17.0 vs 6.2 tok/s, plain 24.6 vs 6.1 on a busy
//   runner; 38.6 vs 26.4 with less load), and it leaves the cores to the UI.
// - Prepacking stays on by default: MLAS packs each weight matrix once at load
//   instead of on every MatMul. At 1.1B parameters that is 3.5x faster decode
//   (9.6 vs 2.7 tok/s) and prefill (113 vs 34 tok/s); at 125M the difference
//   was within noise. The cost is a private packed copy per session, so when
//   several sessions use one weights file (`sharedWeights`) we set
//   `session.disable_prepacking` '1': external data loaded by path then stays
//   one mmapped copy shared by all of them.
// - graphOptimizationLevel 'all' (vs 'extended': no consistent difference) so
//   the EP-specific fusions apply; enableMemPattern off (shapes change every
//   decode step; on it was slower for decode: 4.6 vs 6.1 tok/s, plain).
// - WebGPU/CUDA/DML: `session.disable_cpu_ep_fallback` '1' on request (tests
//   use it to prove the whole graph runs on the EP).

import * as ort from 'onnxruntime-node';
import { DeepenError } from '../../shared/errors';
import { Graph } from './graph';
import { Ops } from './ops';
import { serializeModel } from './serialize';

export type Provider = 'cpu' | 'webgpu' | 'cuda' | 'dml';
export const allProviders: readonly Provider[] = ['cpu', 'webgpu', 'cuda', 'dml'];

export type HostDType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8';
export type HostData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** A tensor in host memory; what callers build feeds from and read results as. */
export interface HostTensor {
  readonly location: 'cpu';
  readonly dtype: HostDType;
  readonly dims: readonly number[];
  readonly data: HostData;
}

/**
 * A tensor that stays on the device (e.g. a KV cache on WebGPU). It can be
 * fed back to a session of the same provider; it can't be read on the host.
 * Dispose it once dropped: device memory is not garbage collected.
 */
export interface DeviceTensor {
  readonly location: 'device';
  readonly provider: Provider;
  readonly dtype: HostDType;
  readonly dims: readonly number[];
  dispose(): void;
}

export type Tensor = HostTensor | DeviceTensor;

export function hostTensor(dtype: HostDType, dims: readonly number[], data: HostData): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new DeepenError('internal', `Tensor of shape [${dims.join(', ')}] needs ${n} values, got ${data.length}.`);
  return { location: 'cpu', dtype, dims, data };
}

const ortTensors = new WeakMap<DeviceTensor, ort.Tensor>();

export interface SessionOptions {
  provider: Provider;
  /** Fail instead of silently running unsupported nodes on the CPU (tests). */
  disableCpuFallback?: boolean;
  /** Keep these outputs on the device (WebGPU/CUDA); the rest come back to the host. */
  deviceOutputs?: readonly string[];
  /** Share mmapped weights across sessions (CPU); see the note at the top. */
  sharedWeights?: boolean;
  intraOpThreads?: number;
  /** Try the provider, and on failure fall back to CPU with a reason instead of throwing. */
  fallbackToCpu?: boolean;
}

export class Session {
  private closed = false;
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: Provider,
    /** Set when the requested provider failed and this session runs on the CPU instead. */
    readonly fallbackReason: string | undefined,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Create a session from a model file (external data resolves next to it) or bytes. */
  static async create(model: string | Uint8Array, opts: SessionOptions): Promise<Session> {
    try {
      const s = await ort.InferenceSession.create(model as string, ortOptions(opts, opts.provider));
      return new Session(s, opts.provider, undefined);
    } catch (err) {
      const reason = `${opts.provider} failed to start: ${err instanceof Error ? err.message : String(err)}`;
      if (opts.provider === 'cpu' || !opts.fallbackToCpu) {
        throw new DeepenError('provider_failed', `${reason}. Pick another execution provider in Settings, or use cpu.`, { provider: opts.provider, reason });
      }
      const s = await ort.InferenceSession.create(model as string, ortOptions({ ...opts, deviceOutputs: [] }, 'cpu'));
      return new Session(s, 'cpu', reason);
    }
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.closed) throw new DeepenError('engine_closed', 'This model session was unloaded. Load the model again.');
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (t.location === 'device') {
        // A device tensor fed to another provider's session reads garbage: refuse.
        if (t.provider !== this.provider) throw new DeepenError('internal', `Input ${name} lives on ${t.provider} but this session runs on ${this.provider}.`);
        const inner = ortTensors.get(t);
        if (!inner) throw new DeepenError('internal', `Input ${name} was already disposed.`);
        ortFeeds[name] = inner;
      } else {
        ortFeeds[name] = new ort.Tensor(t.dtype, t.data as never, t.dims as number[]);
      }
    }
    const results = await this.session.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(results)) out[name] = wrap(t, this.provider);
    return out;
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

function wrap(t: ort.Tensor, provider: Provider): Tensor {
  if (t.location === 'cpu') return { location: 'cpu', dtype: t.type as HostDType, dims: [...t.dims], data: t.data as HostData };
  const handle: DeviceTensor = {
    location: 'device',
    provider,
    dtype: t.type as HostDType,
    dims: [...t.dims],
    dispose() {
      const inner = ortTensors.get(handle);
      ortTensors.delete(handle);
      inner?.dispose();
    },
  };
  ortTensors.set(handle, t);
  return handle;
}

function ortOptions(opts: SessionOptions, provider: Provider): ort.InferenceSession.SessionOptions {
  const session: Record<string, string> = { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' };
  if (provider === 'cpu' && opts.sharedWeights) session.disable_prepacking = '1';
  if (provider !== 'cpu' && opts.disableCpuFallback) session.disable_cpu_ep_fallback = '1';
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    enableMemPattern: false,
    logSeverityLevel: 3,
    extra: { session },
  };
  if (opts.intraOpThreads) o.intraOpNumThreads = opts.intraOpThreads;
  // Measured only for WebGPU in onnxruntime-node; other GPU EPs copy outputs to the host.
  if (provider === 'webgpu' && opts.deviceOutputs?.length) {
    o.preferredOutputLocation = Object.fromEntries(opts.deviceOutputs.map((n) => [n, 'gpu-buffer']));
  }
  return o;
}

/** Providers this build of onnxruntime-node knows about and that could be installed on this OS. */
export function listProviders(): Provider[] {
  const names = new Set(ort.listSupportedBackends().map((b) => b.name));
  return allProviders.filter((p) => names.has(p));
}

export interface ProbeResult {
  name: Provider;
  ok: boolean;
  reason?: string;
  /** Session creation + one run of a tiny graph. */
  ms: number;
}

/** A one-node graph (Add) that every provider can run; used to see which providers initialise. */
export function probeModel(): Uint8Array {
  const g = new Graph('probe');
  const ops = new Ops(g);
  const a = g.input('a', 'float32', [1, 4]);
  const b = g.input('b', 'float32', [1, 4]);
  g.output(ops.add(a, b), 'sum');
  return serializeModel(g);
}

/** Try a session per provider, with CPU fallback disabled, and report which actually work. */
export async function probeProviders(providers: readonly Provider[] = listProviders()): Promise<ProbeResult[]> {
  const model = probeModel();
  const results: ProbeResult[] = [];
  for (const name of providers) {
    const t0 = performance.now();
    try {
      const s = await Session.create(model, { provider: name, disableCpuFallback: true });
      const one = hostTensor('float32', [1, 4], new Float32Array([1, 2, 3, 4]));
      const out = await s.run({ a: one, b: one });
      const sum = out.sum;
      const ok = sum.location === 'cpu' && (sum.data as Float32Array)[3] === 8;
      await s.dispose();
      results.push(ok ? { name, ok, ms: performance.now() - t0 } : { name, ok, reason: 'wrong result from the probe graph', ms: performance.now() - t0 });
    } catch (err) {
      const raw = err instanceof DeepenError ? err.details?.reason : undefined;
      results.push({ name, ok: false, reason: typeof raw === 'string' ? raw : err instanceof Error ? err.message : String(err), ms: performance.now() - t0 });
    }
  }
  return results;
}

/** ORT's package version, for diagnostics and cache keys. */
export const runtimeVersion: string = ort.env.versions.node ?? 'unknown';
