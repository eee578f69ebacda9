// The LLaMA-family decoder as an ONNX graph, with a KV cache:
//   x = embed[ids]
//   for each block: x = x + Attn(RMSNorm(x)); x = x + MLP(RMSNorm(x))
//   logits = RMSNorm(x)[rows] · embedᵀ (or lm_headᵀ)
// Two variants compute the same function:
// - 'plain': standard ONNX ops only (opset 17), runs on every EP. RoPE cos/sin
//   and the causal mask come in as inputs (see feeds.ts).
// - 'fused': ORT contrib ops — SimplifiedLayerNormalization,
//   SkipSimplifiedLayerNormalization (adds the residual and normalises in one
//   kernel) and GroupQueryAttention (causal GQA with rotary and KV cache).
// Both take past keys/values (B, nkv, P, hs) and return present ones
// (B, nkv, P+T, hs): the same cache layout (BNSH), so a decoder can switch.
// Logits are computed only for the rows named by `logits_index` (flat indices
// into B·T): prefill asks for the last row, full-sequence scoring for all.

import { DeepenError } from '../../shared/errors';
import { Graph, type DType, type Value } from '../onnx/graph';
import { Ops } from '../onnx/ops';
import type { ModelConfig } from '../checkpoint/hf-config';
import type { LayerWeights, ModelWeights } from './weights';

export type Variant = 'plain' | 'fused';

export interface ForwardGraphOptions {
  variant: Variant;
  /** activations and KV cache; weights come in the same type */
  dtype: DType;
}

/** Input and output names; feeds.ts and the decoder use these. */
export const io = {
  inputIds: 'input_ids',
  logitsIndex: 'logits_index',
  ropeCos: 'rope_cos',
  ropeSin: 'rope_sin',
  attnBias: 'attn_bias',
  /** the causal mask of sliding-window layers (only when the model has them) */
  attnBiasLocal: 'attn_bias_local',
  cosCache: 'cos_cache',
  sinCache: 'sin_cache',
  seqlensK: 'seqlens_k',
  totalSeqLen: 'total_seq_len',
  logits: 'logits',
  pastKey: (i: number) => `past_key.${i}`,
  pastValue: (i: number) => `past_value.${i}`,
  presentKey: (i: number) => `present_key.${i}`,
  presentValue: (i: number) => `present_value.${i}`,
};

/** Why the fused variant can't run this model, or null when it can. */
export function fusedUnsupportedReason(config: ModelConfig): string | null {
  if (config.layerTypes.includes('sliding_attention')) return 'sliding-window layers are only implemented in the plain graph';
  if (config.rope.partialRotaryFactor !== 1) return 'partial rotary embeddings are not supported by GroupQueryAttention here';
  // ORT's GroupQueryAttention kernels (CPU rotary path) require it; real models use 64 or 128.
  if (config.headDim % 16 !== 0) return `head_dim ${config.headDim} is not a multiple of 16, which GroupQueryAttention requires`;
  return null;
}

export function buildForwardGraph(config: ModelConfig, addWeights: (g: Graph) => ModelWeights, opts: ForwardGraphOptions): Graph {
  if (config.hiddenAct !== 'silu') throw new DeepenError('unsupported', `Activation ${config.hiddenAct} is not supported; Llama-family models use silu.`);
  if (opts.variant === 'fused') {
    const why = fusedUnsupportedReason(config);
    if (why) throw new DeepenError('unsupported', `The fused graph can't run this model: ${why}. Use the plain variant.`);
  }
  const g = new Graph(`${config.modelType}-${opts.variant}`);
  const ops = new Ops(g);
  const w = addWeights(g);
  const dt = opts.dtype;
  const hs = config.headDim;
  const nkv = config.numKvHeads;

  const ids = g.input(io.inputIds, 'int64', ['batch', 'seq']);
  const logitsIndex = g.input(io.logitsIndex, 'int64', ['n_logits']);
  const past = Array.from({ length: config.numLayers }, (_, i) => ({
    key: g.input(io.pastKey(i), dt, ['batch', nkv, 'past', hs]),
    value: g.input(io.pastValue(i), dt, ['batch', nkv, 'past', hs]),
  }));

  let x = ops.gather(w.embed, ids, 0); // (B, T, H)
  let normed: Value;
  if (opts.variant === 'plain') {
    const cos = g.input(io.ropeCos, dt, ['seq', hs]);
    const sin = g.input(io.ropeSin, dt, ['seq', hs]);
    const full = g.input(io.attnBias, dt, ['seq', 'total']);
    const local = config.layerTypes.includes('sliding_attention') ? g.input(io.attnBiasLocal, dt, ['seq', 'total']) : null;
    for (let i = 0; i < config.numLayers; i++) {
      const ctx: PlainContext = { cos, sin, bias: config.layerTypes[i] === 'sliding_attention' ? local! : full };
      x = g.scope(`L${i}`, () => plainBlock(ops, config, w.layers[i], x, past[i], ctx, i));
    }
    normed = rmsNorm(ops, x, w.finalNorm, config.rmsNormEps);
  } else {
    const ctx: FusedContext = {
      cosCache: g.input(io.cosCache, dt, ['max_pos', hs / 2]),
      sinCache: g.input(io.sinCache, dt, ['max_pos', hs / 2]),
      seqlensK: g.input(io.seqlensK, 'int32', ['batch']),
      totalSeqLen: g.input(io.totalSeqLen, 'int32', []),
    };
    // Each block returns its MLP output un-added; the next norm adds the residual.
    let pending: Value | null = null;
    for (let i = 0; i < config.numLayers; i++) {
      [pending, x] = g.scope(`L${i}`, () => fusedBlock(ops, config, w.layers[i], x, pending, past[i], ctx, i));
    }
    normed = ops.skipSimplifiedLayerNorm(pending!, x, w.finalNorm, config.rmsNormEps)[0];
  }

  // Logits for the requested rows only: (B, T, H) → (B·T, H) → (K, H) → (K, V).
  const rows = ops.gather(ops.reshape(normed, [-1, config.hiddenSize]), logitsIndex, 0);
  const logits = ops.gemm(rows, w.lmHead, null, { transB: true });
  g.output(ops.cast(logits, 'float32'), io.logits);
  return g;
}

/** RMSNorm in float32 (as transformers does), scaled by `weight` in the compute type. */
function rmsNorm(ops: Ops, x: Value, weight: Value, eps: number): Value {
  const xf = ops.cast(x, 'float32');
  const variance = ops.reduceMean(ops.mul(xf, xf), [-1]);
  const inv = ops.reciprocal(ops.sqrt(ops.add(variance, ops.scalar(eps))));
  return ops.mul(ops.cast(ops.mul(xf, inv), x.dtype), weight);
}

const silu = (ops: Ops, x: Value) => ops.mul(x, ops.sigmoid(x));

function addBias(ops: Ops, x: Value, bias: Value | null): Value {
  return bias ? ops.add(x, bias) : x;
}

function mlp(ops: Ops, config: ModelConfig, lw: LayerWeights, h: Value): Value {
  const I = config.intermediateSize;
  const gu = addBias(ops, ops.matMul(h, lw.gateUp), lw.gateUpBias); // (B, T, 2I)
  const [gate, up] = ops.split(gu, [I, I], -1);
  return addBias(ops, ops.matMul(ops.mul(silu(ops, gate), up), lw.down), lw.downBias); // (B, T, H)
}

interface Past {
  key: Value;
  value: Value;
}

interface PlainContext {
  cos: Value; // (T, hs), each half repeated
  sin: Value;
  bias: Value; // (T, S) additive causal mask
}

/** x·cos + rotate_half(x)·sin, with rotate_half(x) = [-x₂, x₁]. */
function rope(ops: Ops, x: Value, ctx: PlainContext, hs: number): Value {
  const [x1, x2] = ops.split(x, [hs / 2, hs / 2], -1);
  const rotated = ops.concat([ops.neg(x2), x1], -1);
  return ops.add(ops.mul(x, ctx.cos), ops.mul(rotated, ctx.sin));
}

function plainBlock(ops: Ops, config: ModelConfig, lw: LayerWeights, x: Value, past: Past, ctx: PlainContext, i: number): Value {
  const g = ops.g;
  const { numHeads: nh, numKvHeads: nkv, headDim: hs } = config;
  const groups = nh / nkv;
  const h = rmsNorm(ops, x, lw.inNorm, config.rmsNormEps);
  const qkv = addBias(ops, ops.matMul(h, lw.qkv), lw.qkvBias); // (B, T, Dq + 2Dkv)
  let [q, k, v] = ops.split(qkv, [nh * hs, nkv * hs, nkv * hs], -1);
  q = ops.reshape(q, [0, 0, nh, hs]); // (B, T, nh, hs)
  k = ops.reshape(k, [0, 0, nkv, hs]);
  v = ops.reshape(v, [0, 0, nkv, hs]);
  if (lw.qNorm && lw.kNorm) {
    q = rmsNorm(ops, q, lw.qNorm, config.rmsNormEps);
    k = rmsNorm(ops, k, lw.kNorm, config.rmsNormEps);
  }
  q = rope(ops, ops.transpose(q, [0, 2, 1, 3]), ctx, hs); // (B, nh, T, hs)
  k = rope(ops, ops.transpose(k, [0, 2, 1, 3]), ctx, hs); // (B, nkv, T, hs)
  v = ops.transpose(v, [0, 2, 1, 3]);
  const keys = ops.concat([past.key, k], 2); // (B, nkv, S, hs)
  const values = ops.concat([past.value, v], 2);
  g.output(keys, io.presentKey(i));
  g.output(values, io.presentValue(i));

  // Grouped heads without copying K/V: query heads of one KV head share a batch
  // entry, (B, nkv, g, T, hs) · (B, nkv, 1, hs, S) → (B, nkv, g, T, S).
  const scale = ops.scalar(1 / Math.sqrt(hs), q.dtype);
  let out: Value;
  if (groups === 1) {
    const scores = ops.add(ops.mul(ops.matMul(q, ops.transpose(keys, [0, 1, 3, 2])), scale), ctx.bias); // (B, nh, T, S)
    out = ops.matMul(ops.softmax(scores, -1), values); // (B, nh, T, hs)
  } else {
    const q5 = ops.reshape(q, [0, nkv, groups, -1, hs]);
    const kT = ops.unsqueeze(ops.transpose(keys, [0, 1, 3, 2]), [2]); // (B, nkv, 1, hs, S)
    const scores = ops.add(ops.mul(ops.matMul(q5, kT), scale), ctx.bias);
    const o5 = ops.matMul(ops.softmax(scores, -1), ops.unsqueeze(values, [2])); // (B, nkv, g, T, hs)
    out = ops.reshape(o5, [0, nh, -1, hs]);
  }
  const merged = ops.reshape(ops.transpose(out, [0, 2, 1, 3]), [0, 0, nh * hs]); // (B, T, nh·hs)
  x = ops.add(x, addBias(ops, ops.matMul(merged, lw.o), lw.oBias));
  const h2 = rmsNorm(ops, x, lw.postNorm, config.rmsNormEps);
  return ops.add(x, mlp(ops, config, lw, h2));
}

interface FusedContext {
  cosCache: Value; // (max_pos, hs/2)
  sinCache: Value;
  seqlensK: Value; // (B) int32: total length − 1 per row
  totalSeqLen: Value; // () int32
}

/** Returns [mlpOut, residual]: the caller adds mlpOut to the residual in the next fused norm. */
function fusedBlock(ops: Ops, config: ModelConfig, lw: LayerWeights, x: Value, pending: Value | null, past: Past, ctx: FusedContext, i: number): [Value, Value] {
  const g = ops.g;
  const { numHeads: nh, numKvHeads: nkv, headDim: hs } = config;
  const eps = config.rmsNormEps;
  let h: Value;
  if (pending) [h, x] = ops.skipSimplifiedLayerNorm(pending, x, lw.inNorm, eps);
  else h = ops.simplifiedLayerNorm(x, lw.inNorm, eps);
  const qkv = addBias(ops, ops.matMul(h, lw.qkv), lw.qkvBias); // (B, T, Dq + 2Dkv)
  let query = qkv;
  let key: Value | null = null;
  let value: Value | null = null;
  if (lw.qNorm && lw.kNorm) {
    // Qwen3: per-head RMSNorm of q and k before rotary; GQA then takes them unpacked.
    const [q, k, v] = ops.split(qkv, [nh * hs, nkv * hs, nkv * hs], -1);
    query = ops.reshape(ops.simplifiedLayerNorm(ops.reshape(q, [0, 0, nh, hs]), lw.qNorm, eps), [0, 0, nh * hs]);
    key = ops.reshape(ops.simplifiedLayerNorm(ops.reshape(k, [0, 0, nkv, hs]), lw.kNorm, eps), [0, 0, nkv * hs]);
    value = v;
  }
  const [attn, presentKey, presentValue] = ops.groupQueryAttention(
    { query, key, value, pastKey: past.key, pastValue: past.value, seqlensK: ctx.seqlensK, totalSequenceLength: ctx.totalSeqLen, cosCache: ctx.cosCache, sinCache: ctx.sinCache },
    { numHeads: nh, kvNumHeads: nkv, headSize: hs, doRotary: true },
  );
  g.output(presentKey, io.presentKey(i));
  g.output(presentValue, io.presentValue(i));
  const attnOut = addBias(ops, ops.matMul(attn, lw.o), lw.oBias);
  const [h2, residual] = ops.skipSimplifiedLayerNorm(attnOut, x, lw.postNorm, eps);
  return [mlp(ops, config, lw, h2), residual];
}
