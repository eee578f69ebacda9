import { describe, expect, it } from 'vitest';
import { DeepenError } from '../../../src/shared/errors';
import { parseHfConfig } from '../../../src/native/checkpoint/hf-config';
import { thrownBy } from '../../expect-error';

const base = {
  model_type: 'llama',
  vocab_size: 32000,
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
};

const fails = (json: unknown): DeepenError => thrownBy(() => parseHfConfig(json, '/m/config.json'));

describe('parseHfConfig', () => {
  it('Llama 2 in the 4.x layout, with defaults filled', () => {
    const { config } = parseHfConfig({ ...base, rope_theta: 10000, rope_scaling: null, torch_dtype: 'float16', rms_norm_eps: 1e-5, bos_token_id: 1, eos_token_id: 2 });
    expect(config).toMatchObject({
      modelType: 'llama',
      layout: '4.x',
      numKvHeads: 32,
      headDim: 128,
      rmsNormEps: 1e-5,
      rope: { type: 'default', theta: 10000, factor: 1, partialRotaryFactor: 1 },
      tieWordEmbeddings: false,
      attentionBias: false,
      attentionOutputBias: false,
      mlpBias: false,
      qkNorm: false,
      slidingWindow: null,
      maxWindowLayers: null,
      dtype: 'float16',
      bosTokenId: 1,
      eosTokenIds: [2],
      padTokenId: null,
      maxPositionEmbeddings: 2048,
    });
    expect(config.layerTypes).toHaveLength(32);
    expect(new Set(config.layerTypes)).toEqual(new Set(['full_attention']));
  });

  it('Llama 3.1: llama3 rope scaling (4.x rope_scaling) and a list of eos ids', () => {
    const { config } = parseHfConfig({
      ...base,
      vocab_size: 128256,
      hidden_size: 4096,
      intermediate_size: 14336,
      num_key_value_heads: 8,
      rope_theta: 500000,
      rope_scaling: { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: 'llama3' },
      eos_token_id: [128001, 128008, 128009],
      torch_dtype: 'bfloat16',
      max_position_embeddings: 131072,
    });
    expect(config.rope).toEqual({ type: 'llama3', theta: 500000, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192, partialRotaryFactor: 1 });
    expect(config.eosTokenIds).toEqual([128001, 128008, 128009]);
    expect(config.numKvHeads).toBe(8);
  });

  it('the same model in the 5.x layout (rope_parameters, dtype)', () => {
    const { config } = parseHfConfig({
      ...base,
      num_key_value_heads: 8,
      rope_parameters: { rope_theta: 500000, rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
      dtype: 'bfloat16',
    });
    expect(config.layout).toBe('5.x');
    expect(config.rope).toMatchObject({ type: 'llama3', theta: 500000, factor: 8 });
    expect(config.dtype).toBe('bfloat16');
  });

  it('old-style rope_scaling {type: linear}', () => {
    const { config } = parseHfConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } });
    expect(config.rope).toMatchObject({ type: 'linear', factor: 2, theta: 10000 });
  });

  it('yarn parameters', () => {
    const { config } = parseHfConfig({ ...base, model_type: 'qwen3', rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32768, beta_fast: 32, beta_slow: 1 } });
    expect(config.rope).toMatchObject({ type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 32, betaSlow: 1 });
  });

  it('llama attention_bias / mlp_bias put biases on o_proj and down_proj too', () => {
    const { config } = parseHfConfig({ ...base, attention_bias: true, mlp_bias: true });
    expect(config).toMatchObject({ attentionBias: true, attentionOutputBias: true, mlpBias: true });
  });

  it('Mistral: head_dim given, sliding_window in every layer, default window when the key is absent', () => {
    const m = parseHfConfig({ ...base, model_type: 'mistral', num_key_value_heads: 8, head_dim: 128, sliding_window: 4096 }).config;
    expect(m.slidingWindow).toBe(4096);
    expect(new Set(m.layerTypes)).toEqual(new Set(['sliding_attention']));
    expect(parseHfConfig({ ...base, model_type: 'mistral', sliding_window: null }).config.slidingWindow).toBeNull();
    expect(parseHfConfig({ ...base, model_type: 'mistral' }).config.slidingWindow).toBe(4096);
    expect(parseHfConfig({ ...base, model_type: 'mistral' }).config.attentionBias).toBe(false);
  });

  it('Qwen2: q/k/v biases, no o_proj bias; sliding off unless use_sliding_window', () => {
    const q = parseHfConfig({ ...base, model_type: 'qwen2', num_key_value_heads: 4, sliding_window: 131072, max_window_layers: 28, use_sliding_window: false, tie_word_embeddings: true }).config;
    expect(q).toMatchObject({ attentionBias: true, attentionOutputBias: false, mlpBias: false, slidingWindow: null, maxWindowLayers: 28, tieWordEmbeddings: true });
    const s = parseHfConfig({ ...base, model_type: 'qwen2', num_hidden_layers: 4, sliding_window: 4096, max_window_layers: 2, use_sliding_window: true }).config;
    expect(s.layerTypes).toEqual(['full_attention', 'full_attention', 'sliding_attention', 'sliding_attention']);
    expect(s.slidingWindow).toBe(4096);
  });

  it('Qwen3: q/k norm, head_dim default 128, attention_bias', () => {
    const q = parseHfConfig({ ...base, model_type: 'qwen3', hidden_size: 1024, num_attention_heads: 16, num_key_value_heads: 8 }).config;
    expect(q).toMatchObject({ qkNorm: true, headDim: 128, attentionBias: false, numKvHeads: 8 });
    expect(parseHfConfig({ ...base, model_type: 'qwen3', attention_bias: true }).config.attentionOutputBias).toBe(true);
  });

  it('layer_types given explicitly must match the depth', () => {
    const ok = parseHfConfig({ ...base, model_type: 'qwen3', num_hidden_layers: 2, layer_types: ['full_attention', 'sliding_attention'], sliding_window: 512 }).config;
    expect(ok.layerTypes).toEqual(['full_attention', 'sliding_attention']);
    expect(ok.slidingWindow).toBe(512);
    expect(fails({ ...base, num_hidden_layers: 2, layer_types: ['full_attention'] }).message).toContain('layer_types');
    expect(fails({ ...base, model_type: 'qwen3', num_hidden_layers: 1, layer_types: ['sliding_attention'] }).message).toContain('sliding_window');
  });

  it('5.x rope_parameters keyed by layer type takes full_attention', () => {
    const { config } = parseHfConfig({ ...base, rope_parameters: { full_attention: { rope_theta: 1e6, rope_type: 'default' }, sliding_attention: { rope_theta: 1e4, rope_type: 'default' } } });
    expect(config.rope.theta).toBe(1e6);
  });

  it.each(['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads'])('missing %s is a bad_file naming config.json and the field', (field) => {
    const json: Record<string, unknown> = { ...base };
    delete json[field];
    const err = fails(json);
    expect(err.code).toBe('bad_file');
    expect(err.message).toContain('/m/config.json');
    expect(err.message).toContain(`"${field}"`);
    expect(err.details).toMatchObject({ field });
  });

  it('missing model_type is bad_file; unknown is unsupported with the supported list', () => {
    const { model_type: _, ...noType } = base;
    expect(fails(noType).code).toBe('bad_file');
    const err = fails({ ...base, model_type: 'gemma2' });
    expect(err.code).toBe('unsupported');
    expect(err.message).toContain('llama, mistral, qwen2, qwen3');
    expect(err.details).toMatchObject({ supported: ['llama', 'mistral', 'qwen2', 'qwen3'] });
  });

  it('rejects wrong types and inconsistent heads', () => {
    expect(fails({ ...base, hidden_size: '4096' }).message).toContain('positive integer');
    expect(fails({ ...base, num_hidden_layers: 0 }).message).toContain('num_hidden_layers');
    expect(fails({ ...base, num_key_value_heads: 5 }).message).toContain('must divide');
    expect(fails({ ...base, hidden_size: 100, num_attention_heads: 3 }).message).toContain('not divisible');
    expect(fails({ ...base, tie_word_embeddings: 'yes' }).message).toContain('tie_word_embeddings');
    expect(fails({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8 } }).message).toContain('llama3');
    expect(fails({ ...base, rope_scaling: { rope_type: 'mystery' } }).code).toBe('unsupported');
    expect(fails([1, 2]).code).toBe('bad_file');
    expect(fails(null).code).toBe('bad_file');
  });
});
