// loadModel's contract around the happy path: provider fallback with a
// reason, variant choice, and clear errors for bad input.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { parseHfConfig } from '../../../src/native/checkpoint/hf-config';
import { chooseVariant, loadModel, parameterCount } from '../../../src/native/model/load';
import { fixturesDir, tempCacheDir } from './reference';

const cacheDir = tempCacheDir('load');
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
const dir = path.join(fixturesDir, 'llama-sharded-fp32');

test.skipIf(process.platform === 'win32')('a provider that fails to start falls back to the CPU and says why', async () => {
  const model = await loadModel(dir, { provider: 'dml', cacheDir });
  try {
    expect(model.provider).toBe('cpu');
    expect(model.precision).toBe('fp32');
    expect(model.fallbackReason).toMatch(/dml/);
    expect((await model.fullLogits([[1, 2, 3]])).length).toBe(3 * 512);
  } finally {
    await model.dispose();
  }
  await expect(loadModel(dir, { provider: 'dml', cacheDir, fallbackToCpu: false })).rejects.toMatchObject({ code: 'provider_failed' });
});

test('bad input gets a clear error, and the model keeps working', async () => {
  await expect(loadModel(path.join(fixturesDir, 'no-such-model'), { cacheDir })).rejects.toMatchObject({ code: 'not_found' });
  const model = await loadModel(dir, { cacheDir });
  try {
    const dec = model.createDecoder();
    await expect(dec.prefill([])).rejects.toMatchObject({ code: 'bad_request' });
    await expect(dec.prefill([1, 512])).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/vocabulary/) });
    await expect(dec.prefill(new Array(257).fill(1))).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/context of 256/) });
    expect((await dec.prefill([1, 2])).length).toBe(512);
    expect(dec.position).toBe(2);
    dec.dispose();
    await expect(dec.step(1)).rejects.toMatchObject({ code: 'engine_closed' });
  } finally {
    await model.dispose();
  }
});

test('the fused graph is chosen where it can run, the plain one otherwise', () => {
  const base = { model_type: 'llama', vocab_size: 10, hidden_size: 64, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4 };
  expect(chooseVariant(parseHfConfig(base).config, 'cpu')).toBe('fused');
  expect(chooseVariant(parseHfConfig(base).config, 'webgpu', 'plain')).toBe('plain');
  expect(chooseVariant(parseHfConfig({ ...base, num_attention_heads: 8 }).config, 'cpu')).toBe('plain'); // head_dim 8
  expect(chooseVariant(parseHfConfig({ ...base, model_type: 'mistral', sliding_window: 16 }).config, 'cpu')).toBe('plain');
});

test('parameter count of a Llama-2-7B-shaped config', () => {
  const { config } = parseHfConfig({ model_type: 'llama', vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32 });
  expect(parameterCount(config, false)).toBe(6_738_415_616);
});
