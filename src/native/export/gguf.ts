// Export a checkpoint (base, expanded or trained) as one GGUF file for
// llama.cpp, LM Studio and Ollama, in f32, f16 or q8_0.
//
// Families map to llama.cpp architectures: llama/mistral → "llama", qwen2 →
// "qwen2", qwen3 → "qwen3". llama.cpp's "llama" rotates adjacent pairs where
// transformers rotates halves, so q_proj/k_proj rows are permuted per head
// (the other two use the half layout, like transformers). 1-D tensors (norms,
// biases) stay f32, as llama.cpp's own converter writes them.

import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { openCheckpoint, type Checkpoint } from '../checkpoint/checkpoint';
import type { ModelConfig } from '../checkpoint/hf-config';
import { handleWriter, partialPath, writeFully } from '../fs-write';
import { toFloat32 } from '../onnx/weights-file';
import { ropeFrequencies } from '../model/rope';
import { encodeHeader, encodeTensor, kv, Q8_0_BLOCK, type GgmlType, type GgufTensorInfo, type KvValue } from './gguf-format';
import { vocabMetadata } from './gguf-vocab';

export type GgufPrecision = GgmlType;

export interface GgufExportOptions {
  type: GgufPrecision;
  name?: string;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface GgufExportResult {
  file: string;
  bytes: number;
  tensors: number;
  architecture: string;
}

const architectures: Record<ModelConfig['modelType'], string> = { llama: 'llama', mistral: 'llama', qwen2: 'qwen2', qwen3: 'qwen3' };
const fileTypes: Record<GgmlType, number> = { f32: 0, f16: 1, q8_0: 7 };

interface PlannedTensor extends GgufTensorInfo {
  /** float32 values in the checkpoint's row-major layout, already permuted when needed */
  load: () => Promise<Float32Array>;
}

/** Rows of q_proj/k_proj (heads·hs, in) from half-split to interleaved rotary order. */
function permuteForInterleavedRope(w: Float32Array, heads: number, hs: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = hs / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * hs + j * half + i) * cols;
        out.set(w.subarray(src, src + cols), (h * hs + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

function plan(ckpt: Checkpoint, type: GgmlType, arch: string): PlannedTensor[] {
  const c = ckpt.config;
  const prefix = ckpt.tensors.has('model.embed_tokens.weight') ? 'model.' : '';
  const out: PlannedTensor[] = [];
  const read = async (name: string) => toFloat32(await ckpt.readTensor(name), ckpt.tensors.get(name)!.dtype);
  const typeFor = (shape: number[]): GgmlType => {
    if (shape.length === 1) return 'f32';
    if (type === 'q8_0' && shape[shape.length - 1] % Q8_0_BLOCK !== 0) return 'f16';
    return type;
  };
  const add = (name: string, source: string, transform?: (w: Float32Array) => Float32Array) => {
    const info = ckpt.tensors.get(source);
    if (!info) return;
    out.push({ name, shape: info.shape, type: typeFor(info.shape), load: async () => (transform ? transform(await read(source)) : read(source)) });
  };
  const permute = arch === 'llama';
  add('token_embd.weight', `${prefix}embed_tokens.weight`);
  for (let i = 0; i < c.numLayers; i++) {
    const b = `${prefix}layers.${i}.`;
    const blk = `blk.${i}.`;
    const qPerm = permute ? (w: Float32Array) => permuteForInterleavedRope(w, c.numHeads, c.headDim, w.length / (c.numHeads * c.headDim)) : undefined;
    const kPerm = permute ? (w: Float32Array) => permuteForInterleavedRope(w, c.numKvHeads, c.headDim, w.length / (c.numKvHeads * c.headDim)) : undefined;
    add(`${blk}attn_norm.weight`, `${b}input_layernorm.weight`);
    add(`${blk}attn_q.weight`, `${b}self_attn.q_proj.weight`, qPerm);
    add(`${blk}attn_q.bias`, `${b}self_attn.q_proj.bias`, qPerm);
    add(`${blk}attn_k.weight`, `${b}self_attn.k_proj.weight`, kPerm);
    add(`${blk}attn_k.bias`, `${b}self_attn.k_proj.bias`, kPerm);
    add(`${blk}attn_v.weight`, `${b}self_attn.v_proj.weight`);
    add(`${blk}attn_v.bias`, `${b}self_attn.v_proj.bias`);
    add(`${blk}attn_output.weight`, `${b}self_attn.o_proj.weight`);
    add(`${blk}attn_output.bias`, `${b}self_attn.o_proj.bias`);
    add(`${blk}attn_q_norm.weight`, `${b}self_attn.q_norm.weight`);
    add(`${blk}attn_k_norm.weight`, `${b}self_attn.k_norm.weight`);
    add(`${blk}ffn_norm.weight`, `${b}post_attention_layernorm.weight`);
    add(`${blk}ffn_gate.weight`, `${b}mlp.gate_proj.weight`);
    add(`${blk}ffn_gate.bias`, `${b}mlp.gate_proj.bias`);
    add(`${blk}ffn_up.weight`, `${b}mlp.up_proj.weight`);
    add(`${blk}ffn_up.bias`, `${b}mlp.up_proj.bias`);
    add(`${blk}ffn_down.weight`, `${b}mlp.down_proj.weight`);
    add(`${blk}ffn_down.bias`, `${b}mlp.down_proj.bias`);
  }
  add('output_norm.weight', `${prefix}norm.weight`);
  // Without output.weight llama.cpp reuses token_embd (tied embeddings).
  if (!c.tieWordEmbeddings) add('output.weight', 'lm_head.weight');
  if (c.rope.type === 'llama3') {
    // llama.cpp applies Llama 3's frequency scaling as per-dimension divisors.
    const base = ropeFrequencies({ ...c, rope: { ...c.rope, type: 'default' } }, 1).invFreq;
    const scaled = ropeFrequencies(c, 1).invFreq;
    out.push({ name: 'rope_freqs.weight', shape: [base.length], type: 'f32', load: async () => Float32Array.from(base, (f, i) => f / scaled[i]) });
  }
  return out;
}

function modelMetadata(c: ModelConfig, arch: string, type: GgmlType, name: string): Record<string, KvValue> {
  const m: Record<string, KvValue> = {
    'general.architecture': kv.string(arch),
    'general.name': kv.string(name),
    'general.file_type': kv.u32(fileTypes[type]),
    'general.quantization_version': kv.u32(2),
    [`${arch}.vocab_size`]: kv.u32(c.vocabSize),
    [`${arch}.context_length`]: kv.u32(c.maxPositionEmbeddings),
    [`${arch}.embedding_length`]: kv.u32(c.hiddenSize),
    [`${arch}.block_count`]: kv.u32(c.numLayers),
    [`${arch}.feed_forward_length`]: kv.u32(c.intermediateSize),
    [`${arch}.attention.head_count`]: kv.u32(c.numHeads),
    [`${arch}.attention.head_count_kv`]: kv.u32(c.numKvHeads),
    [`${arch}.attention.key_length`]: kv.u32(c.headDim),
    [`${arch}.attention.value_length`]: kv.u32(c.headDim),
    [`${arch}.attention.layer_norm_rms_epsilon`]: kv.f32(c.rmsNormEps),
    [`${arch}.rope.freq_base`]: kv.f32(c.rope.theta),
    [`${arch}.rope.dimension_count`]: kv.u32(c.headDim),
  };
  if (c.rope.type === 'linear' || c.rope.type === 'yarn') {
    m[`${arch}.rope.scaling.type`] = kv.string(c.rope.type);
    m[`${arch}.rope.scaling.factor`] = kv.f32(c.rope.factor);
    if (c.rope.originalMaxPositionEmbeddings) m[`${arch}.rope.scaling.original_context_length`] = kv.u32(c.rope.originalMaxPositionEmbeddings);
  } else if (c.rope.type === 'dynamic' || c.rope.type === 'longrope') {
    throw new DeepenError('unsupported', `GGUF export doesn't support ${c.rope.type} RoPE scaling (llama.cpp has no equivalent).`);
  }
  return m;
}

export async function exportGguf(modelDir: string, outFile: string, opts: GgufExportOptions): Promise<GgufExportResult> {
  const ckpt = await openCheckpoint(modelDir);
  const out = path.resolve(outFile);
  const tmp = partialPath(out);
  try {
    const c = ckpt.config;
    const arch = architectures[c.modelType];
    if (c.rope.partialRotaryFactor !== 1) throw new DeepenError('unsupported', 'GGUF export needs full rotary embeddings (partial_rotary_factor 1).');
    const tensors = plan(ckpt, opts.type, arch);
    const metadata = { ...modelMetadata(c, arch, opts.type, opts.name ?? path.basename(ckpt.dir)), ...(await vocabMetadata(ckpt.dir, c)) };
    const { header, offsets, dataBytes } = encodeHeader(metadata, tensors);
    await fs.mkdir(path.dirname(out), { recursive: true });
    const fh = await fs.open(tmp, 'w');
    const file = handleWriter(fh);
    try {
      await writeFully(file, header, 0);
      for (const [i, t] of tensors.entries()) {
        if (opts.isCancelled?.()) throw new DeepenError('cancelled', 'The GGUF export was cancelled; nothing was written.');
        const bytes = encodeTensor(await t.load(), t.type);
        await writeFully(file, bytes, header.length + offsets[i]);
        opts.onProgress?.(i + 1, tensors.length);
      }
      await fh.truncate(header.length + dataBytes);
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, out);
    return { file: out, bytes: header.length + dataBytes, tensors: tensors.length, architecture: arch };
  } catch (err) {
    await fs.rm(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new DeepenError('out_of_disk', `The disk is full while writing ${out}. Free some space and export again.`, { file: out });
    throw err;
  } finally {
    await ckpt.close();
  }
}
