// Rotary position embedding tables, computed on the host for every RoPE type
// that transformers knows for the Llama family (default, linear, dynamic NTK,
// llama3, yarn). The graph gets cos/sin as inputs rather than computing them,
// because dynamic NTK changes the frequencies with the sequence length and
// because WebGPU has no int64 arithmetic to turn positions into angles.
//
// Values follow transformers 5 (modeling_rope_utils.py): inverse frequencies in
// float32, angles = position · inv_freq rounded to float32, and yarn's
// attention factor folded into cos and sin.

import { DeepenError } from '../../shared/errors';
import type { ModelConfig } from '../checkpoint/hf-config';

export interface RopeFrequencies {
  /** (rotaryDim / 2) inverse frequencies, float32 values */
  invFreq: Float64Array;
  /** multiplies cos and sin (yarn); 1 otherwise */
  attentionFactor: number;
}

function defaultInvFreq(theta: number, dim: number): Float64Array {
  const out = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / dim)));
  return out;
}

/** Inverse frequencies for a sequence of `seqLen` tokens (only dynamic NTK looks at it). */
export function ropeFrequencies(config: ModelConfig, seqLen: number): RopeFrequencies {
  const rope = config.rope;
  if (rope.partialRotaryFactor !== 1) {
    throw new DeepenError('unsupported', `Partial rotary embeddings (partial_rotary_factor ${rope.partialRotaryFactor}) are not supported for ${config.modelType}.`);
  }
  const dim = config.headDim;
  switch (rope.type) {
    case 'default':
      return { invFreq: defaultInvFreq(rope.theta, dim), attentionFactor: 1 };
    case 'linear': {
      const inv = defaultInvFreq(rope.theta, dim).map((x) => Math.fround(x / rope.factor));
      return { invFreq: inv, attentionFactor: 1 };
    }
    case 'dynamic': {
      // transformers 5 scales against max_position_embeddings, and only once the sequence is longer than that.
      const maxPos = config.maxPositionEmbeddings;
      const len = Math.max(seqLen, maxPos);
      const base = rope.theta * ((rope.factor * len) / maxPos - (rope.factor - 1)) ** (dim / (dim - 2));
      return { invFreq: defaultInvFreq(base, dim), attentionFactor: 1 };
    }
    case 'llama3':
      return { invFreq: llama3InvFreq(config), attentionFactor: 1 };
    case 'yarn':
      return yarnFrequencies(config);
    default:
      throw new DeepenError('unsupported', `RoPE type ${rope.type} is not supported yet by the inference engine.`);
  }
}

function llama3InvFreq(config: ModelConfig): Float64Array {
  const { theta, factor, lowFreqFactor = 1, highFreqFactor = 4, originalMaxPositionEmbeddings = 8192 } = config.rope;
  const inv = defaultInvFreq(theta, config.headDim);
  const lowWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
  const highWavelen = originalMaxPositionEmbeddings / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f; // high frequencies: unchanged
    if (wavelen > lowWavelen) return Math.fround(f / factor); // low frequencies: interpolated
    const smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return Math.fround(((1 - smooth) * f) / factor + smooth * f);
  });
}

function yarnFrequencies(config: ModelConfig): RopeFrequencies {
  const r = config.rope;
  const dim = config.headDim;
  const original = r.originalMaxPositionEmbeddings ?? config.maxPositionEmbeddings;
  const factor = r.factor;
  const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  let attentionFactor = r.attentionFactor;
  if (attentionFactor === undefined) {
    attentionFactor = r.mscale && r.mscaleAllDim ? mscale(factor, r.mscale) / mscale(factor, r.mscaleAllDim) : mscale(factor);
  }
  const betaFast = r.betaFast || 32;
  const betaSlow = r.betaSlow || 1;
  const correctionDim = (rotations: number) => (dim * Math.log(original / (rotations * 2 * Math.PI))) / (2 * Math.log(r.theta));
  let low = correctionDim(betaFast);
  let high = correctionDim(betaSlow);
  if (r.truncate !== false) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001;
  const half = dim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const posFreq = Math.fround(r.theta ** Math.fround((2 * i) / dim));
    const extrapolation = Math.fround(1 / posFreq);
    const interpolation = Math.fround(1 / Math.fround(factor * posFreq));
    const ramp = Math.min(1, Math.max(0, Math.fround((i - low) / (high - low))));
    const extrapolationFactor = 1 - ramp;
    inv[i] = Math.fround(interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor);
  }
  return { invFreq: inv, attentionFactor };
}

/**
 * cos/sin for positions [start, start + count), as (count, dim/2) rows: the
 * layout of ORT's rotary caches. `full` repeats each row twice, (count, dim),
 * the layout of the plain graph (rotate_half form: x·cos + rotate_half(x)·sin).
 */
export function ropeTable(freqs: RopeFrequencies, start: number, count: number, full: boolean): { cos: Float32Array; sin: Float32Array } {
  const half = freqs.invFreq.length;
  const width = full ? 2 * half : half;
  const cos = new Float32Array(count * width);
  const sin = new Float32Array(count * width);
  const a = freqs.attentionFactor;
  for (let p = 0; p < count; p++) {
    const pos = start + p;
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos * freqs.invFreq[i]);
      const c = Math.cos(angle) * a;
      const s = Math.sin(angle) * a;
      cos[p * width + i] = c;
      sin[p * width + i] = s;
      if (full) {
        cos[p * width + half + i] = c;
        sin[p * width + half + i] = s;
      }
    }
  }
  return { cos, sin };
}

/** True when the frequencies depend on the sequence length (so tables must be rebuilt as it grows). */
export const ropeDependsOnLength = (config: ModelConfig): boolean => config.rope.type === 'dynamic';

/**
 * How many positions the model can address. Scaled RoPE types extend the
 * trained context: dynamic NTK by `factor` over max_position_embeddings, yarn
 * over its original length (configs often leave max_position_embeddings at the
 * original value, e.g. Qwen's "add rope_scaling for long texts").
 */
export function contextLength(config: ModelConfig): number {
  const { type, factor, originalMaxPositionEmbeddings } = config.rope;
  if (type === 'dynamic') return Math.floor(config.maxPositionEmbeddings * Math.max(1, factor));
  if (type === 'yarn') return Math.max(config.maxPositionEmbeddings, Math.floor((originalMaxPositionEmbeddings ?? config.maxPositionEmbeddings) * factor));
  return config.maxPositionEmbeddings;
}
