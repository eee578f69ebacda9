// Features the transformers fixtures don't exercise, on tiny random
// checkpoints checked against a naive float64 forward pass (synthetic.ts):
// Qwen3 q/k-norm, MQA, o_proj and MLP biases, bf16 weights, the RoPE scaling
// types, sliding windows, 4.x and 5.x config layouts. Both graph variants,
// full sequences (with a right-padded row) and the KV-cache decoder
// (multi-token prefill after a past, then single steps).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadModel } from '../../../src/native/model/load';
import type { Variant } from '../../../src/native/model/forward-graph';
import { tempCacheDir } from './reference';
import { referenceLogits, writeSyntheticCheckpoint } from './synthetic';

const work = tempCacheDir('features');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const llama = (extra: Record<string, unknown>) => ({
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 80,
  hidden_size: 64,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 64,
  rope_theta: 10000,
  hidden_act: 'silu',
  ...extra,
});

interface Case {
  name: string;
  config: Record<string, unknown>;
  dtype?: 'F32' | 'BF16';
  /** decoder positions to compare (dynamic NTK changes meaning past max_position_embeddings) */
  decodeUpTo?: number;
  fusedUnsupported?: boolean;
}

const cases: Case[] = [
  {
    name: 'qwen3 q/k-norm, head_dim ≠ hidden/heads, tied',
    config: { ...llama({}), architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', hidden_size: 48, head_dim: 16, rope_theta: 1e6, tie_word_embeddings: true, attention_bias: false },
  },
  {
    name: 'llama MQA with o_proj and MLP biases, llama3 RoPE, bf16 (4.x layout)',
    config: llama({ hidden_size: 32, num_attention_heads: 2, num_key_value_heads: 1, attention_bias: true, mlp_bias: true, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 }, torch_dtype: 'bfloat16' }),
    dtype: 'BF16',
  },
  {
    name: 'llama yarn RoPE (5.x layout)',
    config: llama({ rope_theta: undefined, rope_parameters: { rope_type: 'yarn', rope_theta: 10000, factor: 4, original_max_position_embeddings: 16 } }),
  },
  // head_dim 8: GroupQueryAttention refuses it, so auto picks the plain graph and fused is refused.
  { name: 'llama linear RoPE, head_dim 8', config: llama({ hidden_size: 32, rope_scaling: { type: 'linear', factor: 2 } }), fusedUnsupported: true },
  { name: 'llama dynamic NTK past max_position_embeddings', config: llama({ max_position_embeddings: 8, rope_scaling: { type: 'dynamic', factor: 2 } }), decodeUpTo: 8 },
  {
    name: 'mistral sliding window',
    config: { ...llama({}), architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: 4 },
    fusedUnsupported: true,
  },
];

const row0 = [3, 17, 42, 8, 61, 5, 29, 77, 14, 50, 2, 33];
const row1 = [9, 70, 11, 4, 38, 66, 21, 1];

describe.each(cases)('$name', (c) => {
  const dir = path.join(work, c.name.replace(/[^a-z0-9]+/gi, '-'));
  let ref0: Float64Array;
  let ref1: Float64Array;
  let ref1Padded: Float64Array;
  let refDecode: Float64Array;
  const V = c.config.vocab_size as number;
  const rowOf = (ref: Float64Array, t: number) => ref.subarray(t * V, (t + 1) * V);
  const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };

  beforeAll(async () => {
    await writeSyntheticCheckpoint(dir, c.config, { dtype: c.dtype });
    ref0 = await referenceLogits(dir, row0);
    ref1 = await referenceLogits(dir, row1);
    // In a padded batch, dynamic NTK scales by the longest row (transformers: max position id + 1).
    ref1Padded = await referenceLogits(dir, row1, row0.length);
    refDecode = c.decodeUpTo ? await referenceLogits(dir, row0.slice(0, c.decodeUpTo)) : ref0;
  });

  test.each(['plain', 'fused'] as Variant[])('%s graph matches the reference', async (variant) => {
    const load = () => loadModel(dir, { provider: 'cpu', precision: 'fp32', variant, cacheDir: path.join(work, 'cache') });
    if (variant === 'fused' && c.fusedUnsupported) {
      await expect(load()).rejects.toMatchObject({ code: 'unsupported' });
      return;
    }
    const model = await load();
    try {
      const full = await model.fullLogits([row0, row1]);
      const T = row0.length;
      let worst = diff(full.subarray(0, T * V), ref0);
      worst = Math.max(worst, diff(full.subarray(T * V, (T + row1.length) * V), ref1Padded));
      expect(Array.from(full.subarray((T + row1.length) * V, 2 * T * V)).every((x) => x === 0)).toBe(true);

      const dec = model.createDecoder();
      worst = Math.max(worst, diff(await dec.prefill(row0.slice(0, 3)), rowOf(refDecode, 2)));
      worst = Math.max(worst, diff(await dec.prefill(row0.slice(3, 6)), rowOf(refDecode, 5)));
      for (let t = 6; t < (c.decodeUpTo ?? T); t++) worst = Math.max(worst, diff(await dec.step(row0[t]), rowOf(refDecode, t)));
      dec.reset();
      worst = Math.max(worst, diff(await dec.prefill(row1), rowOf(ref1, row1.length - 1)));
      console.log(`[${c.name}] ${variant}: max |Δlogit| vs float64 reference = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await model.dispose();
    }
  });
});
