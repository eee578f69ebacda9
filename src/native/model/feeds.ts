// Host-side inputs of the forward graph for one run: RoPE tables, the causal
// mask (plain) or the sequence lengths (fused), and empty past caches. Kept
// apart from the graph so the same numbers feed both variants.

import type { ModelConfig } from '../checkpoint/hf-config';
import { f32ToF16Bits } from '../onnx/graph';
import { hostTensor, type HostTensor, type Tensor } from '../onnx/runtime';
import { io, type Variant } from './forward-graph';
import { ropeDependsOnLength, ropeFrequencies, ropeTable, type RopeFrequencies } from './rope';

export type ComputeType = 'float32' | 'float16';

function floatTensor(dtype: ComputeType, dims: number[], values: Float32Array): HostTensor {
  if (dtype === 'float32') return hostTensor('float32', dims, values);
  const half = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) half[i] = f32ToF16Bits(values[i]);
  return hostTensor('float16', dims, half);
}

/** The most negative finite value: what transformers adds for masked positions. */
const maskValue = (dtype: ComputeType) => (dtype === 'float16' ? -65504 : -3.4028234663852886e38);

/**
 * (T, S) additive mask: the token at position q sees key k when k ≤ q and, with
 * a sliding window W, q − k < W (transformers' sliding_window_overlay). Right
 * padding needs nothing more: a real token never looks at padding after it.
 */
export function causalMask(seq: number, past: number, window: number | null, dtype: ComputeType): Float32Array {
  const total = past + seq;
  const bias = new Float32Array(seq * total);
  const masked = maskValue(dtype);
  for (let t = 0; t < seq; t++) {
    const q = past + t;
    for (let k = 0; k < total; k++) if (k > q || (window !== null && q - k >= window)) bias[t * total + k] = masked;
  }
  return bias;
}

/** Rows of the fused graph's rotary caches grow in steps of this many positions. */
const CACHE_STEP = 256;

export class FeedBuilder {
  private staticFreqs: RopeFrequencies | null = null;
  private cacheRows = 0;
  private cacheFreqKey = 0;
  private cache: { cos: HostTensor; sin: HostTensor } | null = null;

  constructor(
    readonly config: ModelConfig,
    readonly variant: Variant,
    readonly dtype: ComputeType,
  ) {}

  private freqs(totalLen: number): RopeFrequencies {
    if (ropeDependsOnLength(this.config)) return ropeFrequencies(this.config, totalLen);
    return (this.staticFreqs ??= ropeFrequencies(this.config, totalLen));
  }

  /**
   * Inputs for `batch` rows of `seq` new tokens after `past` cached ones.
   * `lengths` (fused, no past) are the real lengths of right-padded rows.
   */
  positional(batch: number, seq: number, past: number, lengths?: readonly number[]): Record<string, Tensor> {
    const total = past + seq;
    if (this.variant === 'plain') {
      const { cos, sin } = ropeTable(this.freqs(total), past, seq, true);
      const hs = this.config.headDim;
      const feeds: Record<string, Tensor> = {
        [io.ropeCos]: floatTensor(this.dtype, [seq, hs], cos),
        [io.ropeSin]: floatTensor(this.dtype, [seq, hs], sin),
        [io.attnBias]: floatTensor(this.dtype, [seq, total], causalMask(seq, past, null, this.dtype)),
      };
      if (this.config.layerTypes.includes('sliding_attention')) {
        feeds[io.attnBiasLocal] = floatTensor(this.dtype, [seq, total], causalMask(seq, past, this.config.slidingWindow, this.dtype));
      }
      return feeds;
    }
    const seqlens = new Int32Array(batch);
    for (let b = 0; b < batch; b++) seqlens[b] = past + (lengths ? lengths[b] : seq) - 1;
    return {
      ...this.rotaryCache(total),
      [io.seqlensK]: hostTensor('int32', [batch], seqlens),
      [io.totalSeqLen]: hostTensor('int32', [], new Int32Array([total])),
    };
  }

  /** (rows, hs/2) cos/sin caches covering positions < total, reused while they suffice. */
  private rotaryCache(total: number): Record<string, Tensor> {
    // Dynamic NTK: frequencies change once the sequence outgrows max_position_embeddings,
    // so the cache is keyed by the length the frequencies were computed for.
    const freqKey = ropeDependsOnLength(this.config) ? Math.max(total, this.config.maxPositionEmbeddings) : 0;
    if (!this.cache || total > this.cacheRows || freqKey !== this.cacheFreqKey) {
      const rows = Math.ceil(total / CACHE_STEP) * CACHE_STEP;
      const { cos, sin } = ropeTable(this.freqs(total), 0, rows, false);
      const half = this.config.headDim / 2;
      this.cache = { cos: floatTensor(this.dtype, [rows, half], cos), sin: floatTensor(this.dtype, [rows, half], sin) };
      this.cacheRows = rows;
      this.cacheFreqKey = freqKey;
    }
    return { [io.cosCache]: this.cache.cos, [io.sinCache]: this.cache.sin };
  }

  /** Zero-length past keys/values for a first run. */
  emptyPast(batch: number): Record<string, Tensor> {
    const { numKvHeads: nkv, headDim: hs } = this.config;
    const empty = this.dtype === 'float16' ? hostTensor('float16', [batch, nkv, 0, hs], new Uint16Array(0)) : hostTensor('float32', [batch, nkv, 0, hs], new Float32Array(0));
    const out: Record<string, Tensor> = {};
    for (let i = 0; i < this.config.numLayers; i++) {
      out[io.pastKey(i)] = empty;
      out[io.pastValue(i)] = empty;
    }
    return out;
  }
}

export function idsTensor(rows: readonly (readonly number[])[], seq: number, pad = 0): HostTensor {
  const data = new BigInt64Array(rows.length * seq);
  rows.forEach((r, b) => {
    for (let t = 0; t < seq; t++) data[b * seq + t] = BigInt(t < r.length ? r[t] : pad);
  });
  return hostTensor('int64', [rows.length, seq], data);
}

export function indexTensor(indices: readonly number[]): HostTensor {
  return hostTensor('int64', [indices.length], BigInt64Array.from(indices, (i) => BigInt(i)));
}
