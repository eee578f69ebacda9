// Shared by the checkpoint tests: where the fixtures are, temp folders, and a
// builder for small synthetic Llama-family checkpoints (deterministic bytes,
// any depth, single file or sharded) to test what the fixtures do not cover.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsWriter, type TensorSpec } from '../../../src/native/checkpoint/safetensors-writer';
import type { Dtype } from '../../../src/native/checkpoint/dtypes';
import { dtypeBytes } from '../../../src/native/checkpoint/dtypes';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures/hf');
export const fixtureNames = ['llama-tiny', 'llama-sharded-fp32', 'qwen2-tiny-tied'] as const;

export interface FixtureCase {
  dir: string;
  dtype: string;
  layers: number;
  expanded_layers: number;
  new_layer_indices: number[];
  official_keys: string[];
}

/** fixtures.json cases; `official_keys` may be a list or its Python repr string. */
export function fixtureCases(): Record<string, FixtureCase> {
  const json = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'fixtures.json'), 'utf8')) as { cases: Record<string, FixtureCase & { official_keys: string[] | string }> };
  const out: Record<string, FixtureCase> = {};
  for (const [name, c] of Object.entries(json.cases)) {
    const keys = typeof c.official_keys === 'string' ? parsePythonStringList(c.official_keys) : c.official_keys;
    out[name] = { ...c, official_keys: keys };
  }
  return out;
}

/** "['a', 'b']" → ['a', 'b'] (tensor names hold no quotes or escapes). */
export function parsePythonStringList(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]);
}

/** A fresh folder under os.tmpdir(); remove with cleanup(). */
export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `deepen-ckpt-${tag}-`));
}

export function cleanup(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Names in `dir` (hidden ones included): used to prove nothing partial was left. */
export function listDir(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

export interface SyntheticOptions {
  modelType?: 'llama' | 'mistral' | 'qwen2' | 'qwen3';
  layers?: number;
  hidden?: number;
  intermediate?: number;
  vocab?: number;
  heads?: number;
  kvHeads?: number;
  dtype?: Dtype;
  tie?: boolean;
  /** o_proj/down_proj biases (llama attention_bias / mlp_bias) */
  outputBiases?: boolean;
  maxShardBytes?: number;
  /** extra or replaced config.json keys */
  config?: Record<string, unknown>;
  /** the 4.x config layout (rope_theta, torch_dtype) instead of 5.x */
  layout4?: boolean;
}

/** The (name, dtype, shape) list of a Llama-family model, in HF naming. */
export function syntheticSpecs(o: Required<Omit<SyntheticOptions, 'config' | 'maxShardBytes' | 'layout4'>>): TensorSpec[] {
  const headDim = o.hidden / o.heads;
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', dtype: o.dtype, shape: [o.vocab, o.hidden] }];
  if (!o.tie) specs.push({ name: 'lm_head.weight', dtype: o.dtype, shape: [o.vocab, o.hidden] });
  specs.push({ name: 'model.norm.weight', dtype: o.dtype, shape: [o.hidden] });
  const qkvBias = o.modelType === 'qwen2' || o.outputBiases;
  for (let i = 0; i < o.layers; i++) {
    const p = `model.layers.${i}.`;
    const add = (suffix: string, shape: number[]) => specs.push({ name: p + suffix, dtype: o.dtype, shape });
    add('input_layernorm.weight', [o.hidden]);
    add('post_attention_layernorm.weight', [o.hidden]);
    add('self_attn.q_proj.weight', [o.heads * headDim, o.hidden]);
    add('self_attn.k_proj.weight', [o.kvHeads * headDim, o.hidden]);
    add('self_attn.v_proj.weight', [o.kvHeads * headDim, o.hidden]);
    add('self_attn.o_proj.weight', [o.hidden, o.heads * headDim]);
    if (qkvBias) {
      add('self_attn.q_proj.bias', [o.heads * headDim]);
      add('self_attn.k_proj.bias', [o.kvHeads * headDim]);
      add('self_attn.v_proj.bias', [o.kvHeads * headDim]);
    }
    if (o.outputBiases) {
      add('self_attn.o_proj.bias', [o.hidden]);
      add('mlp.gate_proj.bias', [o.intermediate]);
      add('mlp.up_proj.bias', [o.intermediate]);
      add('mlp.down_proj.bias', [o.hidden]);
    }
    if (o.modelType === 'qwen3') {
      add('self_attn.q_norm.weight', [headDim]);
      add('self_attn.k_norm.weight', [headDim]);
    }
    add('mlp.gate_proj.weight', [o.intermediate, o.hidden]);
    add('mlp.up_proj.weight', [o.intermediate, o.hidden]);
    add('mlp.down_proj.weight', [o.hidden, o.intermediate]);
  }
  return specs;
}

/** Deterministic, name-dependent bytes: no two tensors share content, and no tensor is all zero. */
export function tensorBytes(name: string, length: number): Buffer {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) + 0x9e3779b9;
    buf[i] = (h >>> 24) | 1;
  }
  return buf;
}

/** Writes config.json + safetensors (+ index when sharded) + a tokenizer stub into `dir`. */
export async function writeSyntheticCheckpoint(dir: string, opts: SyntheticOptions = {}): Promise<{ specs: TensorSpec[] }> {
  const o = {
    modelType: opts.modelType ?? 'llama',
    layers: opts.layers ?? 4,
    hidden: opts.hidden ?? 16,
    intermediate: opts.intermediate ?? 24,
    vocab: opts.vocab ?? 32,
    heads: opts.heads ?? 4,
    kvHeads: opts.kvHeads ?? 2,
    dtype: opts.dtype ?? 'BF16',
    tie: opts.tie ?? false,
    outputBiases: opts.outputBiases ?? false,
  };
  fs.mkdirSync(dir, { recursive: true });
  const specs = syntheticSpecs(o);
  const writer = SafetensorsWriter.create(dir, specs, { maxShardBytes: opts.maxShardBytes, metadata: { format: 'pt' } });
  for (const s of specs) await writer.writeTensor(s.name, tensorBytes(s.name, s.shape.reduce((a, b) => a * b, 1) * dtypeBytes[s.dtype]));
  await writer.finish();
  const torchDtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[o.dtype as 'F32'] ?? 'float32';
  const config: Record<string, unknown> = {
    architectures: [{ llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM' }[o.modelType]],
    model_type: o.modelType,
    vocab_size: o.vocab,
    hidden_size: o.hidden,
    intermediate_size: o.intermediate,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads,
    head_dim: o.hidden / o.heads,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 128,
    tie_word_embeddings: o.tie,
    bos_token_id: 1,
    eos_token_id: 2,
  };
  if (o.modelType === 'llama') Object.assign(config, { attention_bias: o.outputBiases, mlp_bias: o.outputBiases });
  if (opts.layout4) Object.assign(config, { rope_theta: 10000, rope_scaling: null, torch_dtype: torchDtype, transformers_version: '4.44.0' });
  else Object.assign(config, { rope_parameters: { rope_theta: 10000, rope_type: 'default' }, dtype: torchDtype, transformers_version: '5.17.0' });
  Object.assign(config, opts.config ?? {});
  for (const [k, v] of Object.entries(opts.config ?? {})) if (v === undefined) delete config[k];
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab: {}, merges: [] } }));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{{ messages }}' }));
  return { specs };
}

/**
 * Writes a safetensors file from raw parts, so tests can produce exactly the
 * broken layouts a real writer never would.
 */
export function writeRawSafetensors(file: string, header: string | Record<string, unknown>, dataBytes: number, opts: { headerLength?: bigint } = {}): void {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.headerLength ?? BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, Buffer.alloc(dataBytes, 7)]));
}
