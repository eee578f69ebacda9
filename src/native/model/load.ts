// loadModel: checkpoint folder → weights file (cached) → graph → session.
// The returned model scores whole sequences (fullLogits) and hands out
// Decoders for generation; both share one session.

import os from 'node:os';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { openCheckpoint } from '../checkpoint/checkpoint';
import type { ModelConfig } from '../checkpoint/hf-config';
import { serializeModel } from '../onnx/serialize';
import { Session, type Provider, type Tensor } from '../onnx/runtime';
import { ensureWeightsFile, fileIdentities, precisionDtype, writeGraphFile, type WeightPrecision } from '../onnx/weights-file';
import { Decoder } from './decoder';
import { FeedBuilder, idsTensor, indexTensor, type ComputeType } from './feeds';
import { buildForwardGraph, fusedUnsupportedReason, io, type Variant } from './forward-graph';
import { addWeightInitializers, weightSpecs, WEIGHTS_LAYOUT_VERSION } from './weights';
import { contextLength } from './rope';

/** Bump when buildForwardGraph's output changes, so cached .onnx files are rewritten. */
const GRAPH_VERSION = 1;

export interface LoadOptions {
  provider?: Provider;
  /** default: fp32 on CPU (exact against the reference), fp16 on GPU providers */
  precision?: WeightPrecision;
  /** default: 'fused' where the provider has the contrib ops and the model fits them */
  variant?: Variant | 'auto';
  /** where weights files and graphs are cached; the host passes <data dir>/cache/onnx */
  cacheDir?: string;
  /** fail rather than run unsupported nodes on the CPU (tests prove EP coverage with it) */
  disableCpuFallback?: boolean;
  /** when the provider fails to start, use the CPU and report why (default true) */
  fallbackToCpu?: boolean;
  intraOpThreads?: number;
  /**
   * CPU: keep the weights one mmapped copy that other sessions of the same model
   * share (disables ORT's prepacking, which made 1B decode 3.5x faster); default false.
   */
  shareWeights?: boolean;
  /** `cacheDir` is removed after this one use (a check): its weights file is not fsynced */
  throwawayCache?: boolean;
  onProgress?: (fraction: number, message: string) => void;
}

export interface LoadedModel {
  readonly dir: string;
  readonly config: ModelConfig;
  readonly provider: Provider;
  readonly variant: Variant;
  readonly precision: WeightPrecision;
  /** set when the requested provider failed and the model runs on the CPU */
  readonly fallbackReason?: string;
  /** bytes of the weights file (what the model occupies once mapped) */
  readonly weightBytes: number;
  /** Logits (B, T, V) for right-padded rows, T the longest row; padding positions are 0. */
  fullLogits(batchIds: readonly (readonly number[])[]): Promise<Float32Array>;
  createDecoder(): Decoder;
  dispose(): Promise<void>;
}

/** Providers whose ORT build has GroupQueryAttention and SkipSimplifiedLayerNormalization. */
const fusedProviders: readonly Provider[] = ['cpu', 'webgpu', 'cuda', 'dml'];

export function chooseVariant(config: ModelConfig, provider: Provider, requested: Variant | 'auto' = 'auto'): Variant {
  if (requested !== 'auto') return requested;
  return fusedProviders.includes(provider) && fusedUnsupportedReason(config) === null ? 'fused' : 'plain';
}

export const defaultCacheDir = (): string => path.join(os.tmpdir(), 'deepen-onnx-cache');

/** Parameter count from the config (embeddings, blocks, head). */
export function parameterCount(c: ModelConfig, tied: boolean): number {
  const dq = c.numHeads * c.headDim;
  const dkv = c.numKvHeads * c.headDim;
  const attn = c.hiddenSize * (dq + 2 * dkv) + dq * c.hiddenSize + (c.attentionBias ? dq + 2 * dkv : 0) + (c.qkNorm ? 2 * c.headDim : 0);
  const mlp = 3 * c.hiddenSize * c.intermediateSize;
  const block = attn + mlp + 2 * c.hiddenSize;
  return c.vocabSize * c.hiddenSize * (tied ? 1 : 2) + c.numLayers * block + c.hiddenSize;
}

export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const requested = opts.provider ?? 'cpu';
  try {
    return await loadOn(dir, requested, opts, undefined);
  } catch (err) {
    if (requested === 'cpu' || opts.fallbackToCpu === false || !(err instanceof DeepenError) || err.code !== 'provider_failed') throw err;
    // The graph and precision chosen for the GPU may not suit the CPU: load afresh for it.
    const reason = typeof err.details?.reason === 'string' ? err.details.reason : err.message;
    return loadOn(dir, 'cpu', { ...opts, precision: 'fp32' }, reason);
  }
}

async function loadOn(dir: string, provider: Provider, opts: LoadOptions, fallbackReason: string | undefined): Promise<LoadedModel> {
  const precision = opts.precision ?? (provider === 'cpu' ? 'fp32' : 'fp16');
  const progress = opts.onProgress ?? (() => undefined);
  const ckpt = await openCheckpoint(dir);
  try {
    const config = ckpt.config;
    const bytesPerParam = precision === 'fp16' ? 2 : 4;
    const estimate = parameterCount(config, !ckpt.tensors.has('lm_head.weight')) * bytesPerParam;
    const total = os.totalmem();
    if (estimate > total * 0.9) {
      const gib = (n: number) => (n / 2 ** 30).toFixed(1);
      throw new DeepenError(
        'out_of_memory',
        `${path.basename(ckpt.dir)} needs about ${gib(estimate)} GiB in ${precision}, but this machine has ${gib(total)} GiB of memory. Pick a smaller model or load it in fp16.`,
        { needBytes: estimate, totalBytes: total },
      );
    }
    const variant = chooseVariant(config, provider, opts.variant);
    progress(0, `Preparing ${precision} weights`);
    const identity = await fileIdentities([...ckpt.files.map((f) => f.file), path.join(ckpt.dir, 'config.json')]);
    const folder = await ensureWeightsFile({
      cacheRoot: opts.cacheDir ?? defaultCacheDir(),
      checkpointDir: ckpt.dir,
      identity,
      precision,
      layoutVersion: WEIGHTS_LAYOUT_VERSION,
      specs: weightSpecs(ckpt),
      onProgress: (done, n) => progress((0.8 * done) / n, `Converting weights (${done}/${n})`),
      durable: !opts.throwawayCache,
    });
    const dtype = precisionDtype(precision) as ComputeType;
    const graph = buildForwardGraph(config, (g) => addWeightInitializers(g, config, folder.manifest), { variant, dtype });
    const graphFile = await writeGraphFile(folder.dir, `forward-${variant}-${precision}-v${GRAPH_VERSION}.onnx`, serializeModel(graph));
    progress(0.85, `Starting ${provider}`);
    const session = await Session.create(graphFile, {
      provider,
      disableCpuFallback: opts.disableCpuFallback,
      sharedWeights: opts.shareWeights ?? false,
      intraOpThreads: opts.intraOpThreads,
      deviceOutputs: Array.from({ length: config.numLayers }, (_, i) => [io.presentKey(i), io.presentValue(i)]).flat(),
    });
    progress(1, 'Loaded');
    return new Model(ckpt.dir, config, session, variant, precision, folder.manifest.bytes, dtype, fallbackReason);
  } finally {
    await ckpt.close();
  }
}

class Model implements LoadedModel {
  private readonly feeds: FeedBuilder;
  private readonly decoders = new Set<Decoder>();

  constructor(
    readonly dir: string,
    readonly config: ModelConfig,
    private readonly session: Session,
    readonly variant: Variant,
    readonly precision: WeightPrecision,
    readonly weightBytes: number,
    dtype: ComputeType,
    /** set when the requested provider failed and the model runs on the CPU */
    readonly fallbackReason: string | undefined,
  ) {
    this.feeds = new FeedBuilder(config, variant, dtype);
  }

  get provider(): Provider {
    return this.session.provider;
  }

  async fullLogits(batchIds: readonly (readonly number[])[]): Promise<Float32Array> {
    const B = batchIds.length;
    const T = Math.max(0, ...batchIds.map((r) => r.length));
    if (!B || !T) throw new DeepenError('bad_request', 'fullLogits needs at least one non-empty row of token ids.');
    if (T > contextLength(this.config)) {
      throw new DeepenError('bad_request', `A row is ${T} tokens long, more than the model's context of ${contextLength(this.config)}. Score shorter pieces.`);
    }
    const V = this.config.vocabSize;
    const rows: number[] = [];
    batchIds.forEach((r, b) => {
      for (let t = 0; t < r.length; t++) rows.push(b * T + t);
    });
    const inputs: Record<string, Tensor> = {
      [io.inputIds]: idsTensor(batchIds, T),
      [io.logitsIndex]: indexTensor(rows),
      ...this.feeds.positional(B, T, 0, batchIds.map((r) => r.length)),
      ...this.feeds.emptyPast(B),
    };
    const out = await this.session.run(inputs);
    for (const [name, t] of Object.entries(out)) if (t.location === 'device') t.dispose();
    const logits = out[io.logits];
    if (logits.location !== 'cpu') throw new DeepenError('internal', `Output ${io.logits} was left on the device.`);
    if (rows.length === B * T) return logits.data as Float32Array;
    const full = new Float32Array(B * T * V);
    const data = logits.data as Float32Array;
    rows.forEach((r, k) => full.set(data.subarray(k * V, (k + 1) * V), r * V));
    return full;
  }

  createDecoder(): Decoder {
    const d = new Decoder({ session: this.session, feeds: this.feeds, vocabSize: this.config.vocabSize, numLayers: this.config.numLayers, maxPositions: contextLength(this.config) });
    this.decoders.add(d);
    return d;
  }

  async dispose(): Promise<void> {
    for (const d of this.decoders) d.dispose();
    this.decoders.clear();
    await this.session.dispose();
  }
}
