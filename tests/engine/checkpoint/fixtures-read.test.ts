// Reading the shared fixtures (written by transformers 5.17, not by us):
// every tensor readable, shapes agree with config.json, values are where the
// header says (norm weights were set to 1 + 0.1·N(0,1) by the generator).
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../../../src/native/checkpoint/checkpoint';
import { summarizeCheckpoint } from '../../../src/native/checkpoint/summary';
import { fixtureCases, fixtureNames, fixturesDir } from './helpers';

function decode(buf: Buffer, dtype: string): Float32Array {
  if (dtype === 'F32') return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  if (dtype === 'BF16') {
    const out = new Float32Array(buf.length / 2);
    const view = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < out.length; i++) {
      view.setUint32(0, buf.readUInt16LE(2 * i) << 16);
      out[i] = view.getFloat32(0);
    }
    return out;
  }
  throw new Error(`decode ${dtype}`);
}

const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;

describe.each(fixtureNames)('fixture %s', (name) => {
  const cases = fixtureCases();
  let ckpt: Checkpoint;
  afterAll(() => ckpt?.close());

  it('opens with the normalized config', async () => {
    ckpt = await openCheckpoint(path.join(fixturesDir, name));
    const c = ckpt.config;
    expect(c.numLayers).toBe(cases[name].layers);
    expect(c.layout).toBe('5.x');
    expect(c.hiddenSize).toBe(64);
    expect(c.headDim).toBe(16);
    expect(c.rope).toMatchObject({ type: 'default', theta: 10000, factor: 1 });
    if (name === 'qwen2-tiny-tied') {
      expect(c).toMatchObject({ modelType: 'qwen2', tieWordEmbeddings: true, attentionBias: true, attentionOutputBias: false, numKvHeads: 2 });
      expect(c.layerTypes).toEqual(['full_attention', 'full_attention', 'full_attention', 'full_attention']);
      expect(c.slidingWindow).toBeNull();
    } else {
      expect(c).toMatchObject({ modelType: 'llama', tieWordEmbeddings: false, attentionBias: false, mlpBias: false });
    }
    if (name === 'llama-tiny') expect(c).toMatchObject({ vocabSize: 32000, numKvHeads: 2, dtype: 'bfloat16', rmsNormEps: 1e-5, bosTokenId: 1, eosTokenIds: [2] });
    if (name === 'llama-sharded-fp32') {
      expect(ckpt.files).toHaveLength(9);
      expect(ckpt.indexFile).toMatch(/model\.safetensors\.index\.json$/);
    }
    expect(ckpt.warnings).toEqual([]);
  });

  it('reads every tensor, each the size its dtype and shape say', async () => {
    let bytes = 0;
    for (const [tname, t] of ckpt.tensors) {
      const buf = await ckpt.readTensor(tname);
      expect(buf.length).toBe(t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'BF16' ? 2 : 4));
      bytes += buf.length;
    }
    expect(bytes).toBeGreaterThan(0);
    const expectedDtype = name === 'llama-tiny' ? 'BF16' : 'F32';
    expect(new Set([...ckpt.tensors.values()].map((t) => t.dtype))).toEqual(new Set([expectedDtype]));
  });

  it('finds values where the header says: norms near 1, projections near 0', async () => {
    for (let i = 0; i < ckpt.config.numLayers; i++) {
      const t = ckpt.tensors.get(`model.layers.${i}.input_layernorm.weight`)!;
      const norm = decode(await ckpt.readTensor(t.name), t.dtype);
      expect(Math.abs(mean(norm) - 1)).toBeLessThan(0.1);
      const q = ckpt.tensors.get(`model.layers.${i}.self_attn.q_proj.weight`)!;
      expect(Math.abs(mean(decode(await ckpt.readTensor(q.name), q.dtype)))).toBeLessThan(0.05);
    }
  });

  it('summarizes', async () => {
    const s = await summarizeCheckpoint(ckpt);
    expect(s.family).toBe(name === 'qwen2-tiny-tied' ? 'qwen2' : 'llama');
    expect(s.layers).toBe(cases[name].layers);
    expect(s.blockParams).toHaveLength(s.layers);
    expect(s.paramsTotal).toBe(s.embeddingParams + s.lmHeadParams + s.finalNormParams + s.blockParams.reduce((a, b) => a + b, 0));
    if (name === 'llama-sharded-fp32') expect(s.paramsTotal).toBe(229952); // the index's metadata.total_parameters
    if (name === 'qwen2-tiny-tied') expect(s.lmHeadParams).toBe(0);
    expect(s.tokenizer).toBe(name === 'llama-tiny');
    expect(s.dtype).toBe(name === 'llama-tiny' ? 'bfloat16' : 'float32');
    expect(s.sizeOnDisk).toBeGreaterThan(s.weightsBytes);
  });
});
