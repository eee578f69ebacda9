// Tiny random checkpoints for features the transformers fixtures don't cover
// (Qwen3 q/k-norm, o_proj/MLP biases, RoPE scaling types, sliding windows),
// and a naive float64 forward pass to check the engine against. The reference
// shares only the RoPE frequency code with the engine (rope.ts has its own
// unit tests); everything else here is written out independently, loop by loop.
import fs from 'node:fs';
import path from 'node:path';
import { openCheckpoint } from '../../../src/native/checkpoint/checkpoint';
import { parseHfConfig, type ModelConfig } from '../../../src/native/checkpoint/hf-config';
import { SafetensorsWriter, type TensorSpec } from '../../../src/native/checkpoint/safetensors-writer';
import { toFloat32 } from '../../../src/native/onnx/weights-file';
import { ropeFrequencies } from '../../../src/native/model/rope';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    // xorshift32 + Box-Muller: reproducible normals
    const u = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return ((s >>> 0) + 0.5) / 4294967296;
    };
    return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  };
}

function tensorList(c: ModelConfig): { name: string; shape: number[]; kind: 'weight' | 'norm' | 'bias' }[] {
  const out: { name: string; shape: number[]; kind: 'weight' | 'norm' | 'bias' }[] = [];
  const H = c.hiddenSize;
  const dq = c.numHeads * c.headDim;
  const dkv = c.numKvHeads * c.headDim;
  out.push({ name: 'model.embed_tokens.weight', shape: [c.vocabSize, H], kind: 'weight' });
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    out.push({ name: `${p}input_layernorm.weight`, shape: [H], kind: 'norm' });
    out.push({ name: `${p}post_attention_layernorm.weight`, shape: [H], kind: 'norm' });
    for (const [n, rows] of [['q', dq], ['k', dkv], ['v', dkv]] as const) {
      out.push({ name: `${p}self_attn.${n}_proj.weight`, shape: [rows, H], kind: 'weight' });
      if (c.attentionBias) out.push({ name: `${p}self_attn.${n}_proj.bias`, shape: [rows], kind: 'bias' });
    }
    out.push({ name: `${p}self_attn.o_proj.weight`, shape: [H, dq], kind: 'weight' });
    if (c.attentionOutputBias) out.push({ name: `${p}self_attn.o_proj.bias`, shape: [H], kind: 'bias' });
    if (c.qkNorm) {
      out.push({ name: `${p}self_attn.q_norm.weight`, shape: [c.headDim], kind: 'norm' });
      out.push({ name: `${p}self_attn.k_norm.weight`, shape: [c.headDim], kind: 'norm' });
    }
    for (const [n, shape] of [['gate', [c.intermediateSize, H]], ['up', [c.intermediateSize, H]], ['down', [H, c.intermediateSize]]] as const) {
      out.push({ name: `${p}mlp.${n}_proj.weight`, shape: [...shape], kind: 'weight' });
      if (c.mlpBias) out.push({ name: `${p}mlp.${n}_proj.bias`, shape: [shape[0]], kind: 'bias' });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [H], kind: 'norm' });
  if (!c.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, H], kind: 'weight' });
  return out;
}

const bf16 = (x: number) => {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  return ((u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16) & 0xffff;
};

/** Writes config.json + model.safetensors with seeded random weights (norms 1 + 0.1·N, biases 0.02·N, weights 0.08·N). */
export async function writeSyntheticCheckpoint(dir: string, rawConfig: Record<string, unknown>, opts: { seed?: number; dtype?: 'F32' | 'BF16' } = {}): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(rawConfig, null, 2));
  const { config } = parseHfConfig(rawConfig);
  const dtype = opts.dtype ?? 'F32';
  const list = tensorList(config);
  const specs: TensorSpec[] = list.map((t) => ({ name: t.name, dtype, shape: t.shape }));
  const writer = SafetensorsWriter.create(dir, specs);
  const normal = rng(opts.seed ?? 7);
  const data = new Map<string, Buffer>();
  for (const t of list) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () => (t.kind === 'norm' ? 1 + 0.1 * normal() : t.kind === 'bias' ? 0.02 * normal() : 0.08 * normal()));
    if (dtype === 'F32') data.set(t.name, Buffer.from(new Float32Array(values).buffer));
    else data.set(t.name, Buffer.from(new Uint16Array(values.map(bf16)).buffer));
  }
  for (const shard of writer.shards) for (const t of shard.tensors) await writer.writeTensor(t.spec.name, data.get(t.spec.name)!);
  await writer.finish();
}

/**
 * A naive float64 forward pass over the checkpoint: logits (T, V) for one sequence.
 * `ropeLength` is the sequence length dynamic NTK sees (a padded batch's longest row).
 */
export async function referenceLogits(dir: string, ids: readonly number[], ropeLength = ids.length): Promise<Float64Array> {
  const ckpt = await openCheckpoint(dir);
  const c = ckpt.config;
  const w = new Map<string, Float32Array>();
  for (const [name, info] of ckpt.tensors) w.set(name, toFloat32(await ckpt.readTensor(name), info.dtype));
  await ckpt.close();
  const get = (n: string) => w.get(n)!;
  const opt = (n: string) => w.get(n) ?? null;
  const { hiddenSize: H, numHeads: nh, numKvHeads: nkv, headDim: hs, vocabSize: V } = c;
  const T = ids.length;
  const eps = c.rmsNormEps;

  // y = W x + b for W (rows, cols)
  const linear = (W: Float32Array, b: Float32Array | null, x: Float64Array, rows: number): Float64Array => {
    const cols = x.length;
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = b ? b[r] : 0;
      for (let k = 0; k < cols; k++) s += W[r * cols + k] * x[k];
      y[r] = s;
    }
    return y;
  };
  const rms = (x: Float64Array, weight: Float32Array, off = 0, len = x.length): void => {
    let ss = 0;
    for (let i = 0; i < len; i++) ss += x[off + i] * x[off + i];
    const inv = 1 / Math.sqrt(ss / len + eps);
    for (let i = 0; i < len; i++) x[off + i] = x[off + i] * inv * weight[i];
  };
  const freqs = ropeFrequencies(c, ropeLength);
  const rope = (x: Float64Array, head: number, pos: number) => {
    const half = hs / 2;
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos * freqs.invFreq[i]);
      const cos = Math.cos(angle) * freqs.attentionFactor;
      const sin = Math.sin(angle) * freqs.attentionFactor;
      const a = x[head * hs + i];
      const b = x[head * hs + half + i];
      x[head * hs + i] = a * cos - b * sin;
      x[head * hs + half + i] = b * cos + a * sin;
    }
  };

  let xs: Float64Array[] = ids.map((id) => Float64Array.from(get('model.embed_tokens.weight').subarray(id * H, (id + 1) * H)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const window = c.layerTypes[l] === 'sliding_attention' ? c.slidingWindow : null;
    const qs: Float64Array[] = [];
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const h = Float64Array.from(xs[t]);
      rms(h, get(`${p}input_layernorm.weight`));
      const q = linear(get(`${p}self_attn.q_proj.weight`), opt(`${p}self_attn.q_proj.bias`), h, nh * hs);
      const k = linear(get(`${p}self_attn.k_proj.weight`), opt(`${p}self_attn.k_proj.bias`), h, nkv * hs);
      vs.push(linear(get(`${p}self_attn.v_proj.weight`), opt(`${p}self_attn.v_proj.bias`), h, nkv * hs));
      for (let head = 0; head < nh; head++) {
        if (c.qkNorm) rms(q, get(`${p}self_attn.q_norm.weight`), head * hs, hs);
        rope(q, head, t);
      }
      for (let head = 0; head < nkv; head++) {
        if (c.qkNorm) rms(k, get(`${p}self_attn.k_norm.weight`), head * hs, hs);
        rope(k, head, t);
      }
      qs.push(q);
      ks.push(k);
    }
    const next: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const attn = new Float64Array(nh * hs);
      for (let head = 0; head < nh; head++) {
        const kvh = Math.floor(head / (nh / nkv));
        const scores: number[] = [];
        const keys: number[] = [];
        for (let s = 0; s <= t; s++) {
          if (window !== null && t - s >= window) continue;
          let d = 0;
          for (let i = 0; i < hs; i++) d += qs[t][head * hs + i] * ks[s][kvh * hs + i];
          scores.push(d / Math.sqrt(hs));
          keys.push(s);
        }
        const m = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - m));
        const z = e.reduce((a, b) => a + b, 0);
        keys.forEach((s, j) => {
          for (let i = 0; i < hs; i++) attn[head * hs + i] += (e[j] / z) * vs[s][kvh * hs + i];
        });
      }
      const x = Float64Array.from(xs[t]);
      const o = linear(get(`${p}self_attn.o_proj.weight`), opt(`${p}self_attn.o_proj.bias`), attn, H);
      for (let i = 0; i < H; i++) x[i] += o[i];
      const h2 = Float64Array.from(x);
      rms(h2, get(`${p}post_attention_layernorm.weight`));
      const I = c.intermediateSize;
      const gate = linear(get(`${p}mlp.gate_proj.weight`), opt(`${p}mlp.gate_proj.bias`), h2, I);
      const up = linear(get(`${p}mlp.up_proj.weight`), opt(`${p}mlp.up_proj.bias`), h2, I);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = linear(get(`${p}mlp.down_proj.weight`), opt(`${p}mlp.down_proj.bias`), act, H);
      for (let i = 0; i < H; i++) x[i] += down[i];
      next.push(x);
    }
    xs = next;
  }
  const head = opt('lm_head.weight') ?? get('model.embed_tokens.weight');
  const out = new Float64Array(T * V);
  xs.forEach((x, t) => {
    const h = Float64Array.from(x);
    rms(h, get('model.norm.weight'));
    out.set(linear(head, null, h, V), t * V);
  });
  return out;
}
