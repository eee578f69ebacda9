// Checkpoint tensors → the tensors of our inference graph. Projection weights
// are stored transposed, (in, out), so the graph multiplies activations
// (B, T, in) by them with a plain MatMul, and q|k|v and gate|up are packed
// side by side so each block does two input matmuls instead of five. The
// embedding stays (V, H): Gather reads rows of it and the LM head multiplies
// by it with Gemm(transB=1), so a tied model stores it once.

import type { Checkpoint } from '../checkpoint/checkpoint';
import type { ModelConfig } from '../checkpoint/hf-config';
import { DeepenError } from '../../shared/errors';
import type { Graph, Value } from '../onnx/graph';
import { toFloat32, WEIGHTS_FILE, type WeightSpec, type WeightsManifest } from '../onnx/weights-file';

/** Bump when the names, packing or layout below change: it invalidates cached weights files. */
export const WEIGHTS_LAYOUT_VERSION = 'llama-packed-v1';

export interface LayerWeights {
  inNorm: Value; // (H)
  qkv: Value; // (H, Dq + 2·Dkv)
  qkvBias: Value | null;
  qNorm: Value | null; // (hs)
  kNorm: Value | null;
  o: Value; // (Dq, H)
  oBias: Value | null;
  postNorm: Value; // (H)
  gateUp: Value; // (H, 2·I)
  gateUpBias: Value | null;
  down: Value; // (I, H)
  downBias: Value | null;
}

export interface ModelWeights {
  embed: Value; // (V, H)
  lmHead: Value; // (V, H); the same Value as embed when tied
  finalNorm: Value; // (H)
  layers: LayerWeights[];
}

const layerName = (i: number, what: string) => `L${i}.${what}`;

/** Where the checkpoint keeps its decoder (`model.` prefix or none). */
function prefixOf(ckpt: Checkpoint): string {
  return ckpt.tensors.has('model.embed_tokens.weight') ? 'model.' : '';
}

/** The tensors to write, with how to compute each from the checkpoint. */
export function weightSpecs(ckpt: Checkpoint): WeightSpec[] {
  const c = ckpt.config;
  const p = prefixOf(ckpt);
  const H = c.hiddenSize;
  const dq = c.numHeads * c.headDim;
  const dkv = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const read = async (name: string): Promise<Float32Array> => {
    const info = ckpt.tensors.get(name);
    if (!info) throw new DeepenError('bad_file', `${ckpt.dir} has no tensor "${name}", which a ${c.modelType} model needs.`, { tensor: name });
    return toFloat32(await ckpt.readTensor(name), info.dtype);
  };
  const copy = (name: string, shape: number[], source: string): WeightSpec => ({
    name,
    shape,
    fill: async (out) => out.set(await read(source)),
  });
  // Packed transpose: parts of (rows_k, H) become column blocks of (H, Σ rows_k).
  const packT = (name: string, inDim: number, parts: { source: string; rows: number }[]): WeightSpec => {
    const total = parts.reduce((a, x) => a + x.rows, 0);
    return {
      name,
      shape: [inDim, total],
      fill: async (out) => {
        let col = 0;
        for (const part of parts) {
          transposeInto(await read(part.source), part.rows, inDim, out, total, col); // (rows, inDim) → columns of (inDim, total)
          col += part.rows;
        }
      },
    };
  };
  const packBias = (name: string, parts: { source: string; rows: number }[]): WeightSpec => ({
    name,
    shape: [parts.reduce((a, x) => a + x.rows, 0)],
    fill: async (out) => {
      let at = 0;
      for (const part of parts) {
        out.set(await read(part.source), at);
        at += part.rows;
      }
    },
  });

  const specs: WeightSpec[] = [copy('embed', [c.vocabSize, H], `${p}embed_tokens.weight`), copy('final_norm', [H], `${p}norm.weight`)];
  if (!isTied(ckpt)) specs.push(copy('lm_head', [c.vocabSize, H], 'lm_head.weight'));
  for (let i = 0; i < c.numLayers; i++) {
    const b = `${p}layers.${i}.`;
    const attn = (x: string) => `${b}self_attn.${x}`;
    const qkvParts = (kind: 'weight' | 'bias') => [
      { source: attn(`q_proj.${kind}`), rows: dq },
      { source: attn(`k_proj.${kind}`), rows: dkv },
      { source: attn(`v_proj.${kind}`), rows: dkv },
    ];
    const mlpParts = (kind: 'weight' | 'bias') => [
      { source: `${b}mlp.gate_proj.${kind}`, rows: I },
      { source: `${b}mlp.up_proj.${kind}`, rows: I },
    ];
    specs.push(copy(layerName(i, 'in_norm'), [H], `${b}input_layernorm.weight`));
    specs.push(packT(layerName(i, 'qkv'), H, qkvParts('weight')));
    if (c.attentionBias) specs.push(packBias(layerName(i, 'qkv_bias'), qkvParts('bias')));
    if (c.qkNorm) {
      specs.push(copy(layerName(i, 'q_norm'), [c.headDim], attn('q_norm.weight')));
      specs.push(copy(layerName(i, 'k_norm'), [c.headDim], attn('k_norm.weight')));
    }
    specs.push(packT(layerName(i, 'o'), dq, [{ source: attn('o_proj.weight'), rows: H }]));
    if (c.attentionOutputBias) specs.push(copy(layerName(i, 'o_bias'), [H], attn('o_proj.bias')));
    specs.push(copy(layerName(i, 'post_norm'), [H], `${b}post_attention_layernorm.weight`));
    specs.push(packT(layerName(i, 'gate_up'), H, mlpParts('weight')));
    if (c.mlpBias) specs.push(packBias(layerName(i, 'gate_up_bias'), mlpParts('bias')));
    specs.push(packT(layerName(i, 'down'), I, [{ source: `${b}mlp.down_proj.weight`, rows: H }]));
    if (c.mlpBias) specs.push(copy(layerName(i, 'down_bias'), [H], `${b}mlp.down_proj.bias`));
  }
  return specs;
}

const TILE = 32;

/**
 * out[k·stride + col + r] = w[r·cols + k]: a (rows, cols) matrix written as
 * columns col… of a (cols, stride) one. In 32×32 tiles, so both sides stay in
 * the CPU caches: the row-by-row loop wrote one cache line per element and
 * converted a 1.1B model at 35 MB/s.
 */
export function transposeInto(w: Float32Array, rows: number, cols: number, out: Float32Array, stride: number, col: number): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let k0 = 0; k0 < cols; k0 += TILE) {
      const k1 = Math.min(cols, k0 + TILE);
      for (let k = k0; k < k1; k++) {
        const o = k * stride + col;
        for (let r = r0; r < r1; r++) out[o + r] = w[r * cols + k];
      }
    }
  }
}

/** Tied when the config says so, or when there simply is no lm_head (some exporters drop it). */
export function isTied(ckpt: Checkpoint): boolean {
  return ckpt.config.tieWordEmbeddings || !ckpt.tensors.has('lm_head.weight');
}

/** Add every weight of the manifest to `g` as an external-data initializer. */
export function addWeightInitializers(g: Graph, config: ModelConfig, manifest: WeightsManifest): ModelWeights {
  const get = (name: string): Value => {
    const t = manifest.tensors[name];
    if (!t) throw new DeepenError('internal', `The weights file has no tensor ${name}; delete the cache folder and load again.`);
    return g.initializer(name, t.dtype, t.shape, { kind: 'external', location: WEIGHTS_FILE, offset: t.offset, length: t.length });
  };
  const opt = (name: string): Value | null => (manifest.tensors[name] ? get(name) : null);
  const embed = get('embed');
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const n = (what: string) => layerName(i, what);
    layers.push({
      inNorm: get(n('in_norm')),
      qkv: get(n('qkv')),
      qkvBias: opt(n('qkv_bias')),
      qNorm: opt(n('q_norm')),
      kNorm: opt(n('k_norm')),
      o: get(n('o')),
      oBias: opt(n('o_bias')),
      postNorm: get(n('post_norm')),
      gateUp: get(n('gate_up')),
      gateUpBias: opt(n('gate_up_bias')),
      down: get(n('down')),
      downBias: opt(n('down_bias')),
    });
  }
  return { embed, lmHead: opt('lm_head') ?? embed, finalNorm: get('final_norm'), layers };
}
