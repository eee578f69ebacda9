import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeepenError } from '../../../src/shared/errors';
import { readTensorSet } from '../../../src/native/checkpoint/safetensors-index';
import { parseSafetensorsBytes, TensorFileReader } from '../../../src/native/checkpoint/safetensors-reader';
import { planShards, SafetensorsWriter, shardFileName, type TensorSpec } from '../../../src/native/checkpoint/safetensors-writer';
import { cleanup, tempDir, tensorBytes } from '../../engine/checkpoint/helpers';

const work = tempDir('writer');
afterAll(() => cleanup(work));

const specs: TensorSpec[] = [
  { name: 'a', dtype: 'F32', shape: [10, 10] }, // 400 B
  { name: 'b', dtype: 'BF16', shape: [300] }, // 600 B
  { name: 'c', dtype: 'I64', shape: [5] }, // 40 B
  { name: 'd', dtype: 'U8', shape: [0] }, // empty
  { name: 'e', dtype: 'BOOL', shape: [3] },
  { name: 'f', dtype: 'I32', shape: [2, 2] },
  { name: 'g', dtype: 'F16', shape: [] }, // scalar: 1 element
];
const bytesOf = (s: TensorSpec) => tensorBytes(s.name, s.shape.reduce((a, b) => a * b, 1) * { F32: 4, BF16: 2, F16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 }[s.dtype]);

describe('SafetensorsWriter', () => {
  it('writes one file that our reader (and its strict checks) reads back, header padded to 8 bytes', async () => {
    const dir = path.join(work, 'one');
    fs.mkdirSync(dir);
    const w = SafetensorsWriter.create(dir, specs, { metadata: { format: 'pt', note: 'x' } });
    for (const s of specs) {
      // stream in 7-byte chunks to exercise partial writes
      await w.beginTensor(s.name);
      const data = bytesOf(s);
      for (let i = 0; i < data.length; i += 7) await w.write(data, i, Math.min(7, data.length - i));
      await w.endTensor();
    }
    expect(await w.finish()).toEqual(['model.safetensors']);
    const raw = fs.readFileSync(path.join(dir, 'model.safetensors'));
    const file = parseSafetensorsBytes(raw, 'model.safetensors');
    expect(file.headerLength % 8).toBe(0);
    expect(raw.subarray(8, 8 + file.headerLength).toString().endsWith('}') || raw.subarray(8, 8 + file.headerLength).toString().endsWith(' ')).toBe(true);
    expect(file.metadata).toEqual({ format: 'pt', note: 'x' });
    const set = await readTensorSet(dir);
    const reader = new TensorFileReader();
    for (const s of specs) {
      const t = set.tensors.get(s.name)!;
      expect(t.dtype).toBe(s.dtype);
      expect(t.shape).toEqual(s.shape);
      expect((await reader.read(t)).equals(bytesOf(s))).toBe(true);
    }
    await reader.close();
  });

  it('shards at the limit with HF names and writes the index with total_size', async () => {
    const dir = path.join(work, 'sharded');
    fs.mkdirSync(dir);
    const w = SafetensorsWriter.create(dir, specs, { maxShardBytes: 500 });
    expect(w.shards.map((s) => s.tensors.map((t) => t.spec.name))).toEqual([['a'], ['b'], ['c', 'd', 'e', 'f', 'g']]);
    for (const s of specs) await w.writeTensor(s.name, bytesOf(s));
    const files = await w.finish();
    expect(files).toEqual(['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors', 'model.safetensors.index.json']);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata.total_size).toBe(400 + 600 + 40 + 0 + 3 + 16 + 2);
    expect(index.weight_map).toEqual({
      a: 'model-00001-of-00003.safetensors',
      b: 'model-00002-of-00003.safetensors',
      c: 'model-00003-of-00003.safetensors',
      d: 'model-00003-of-00003.safetensors',
      e: 'model-00003-of-00003.safetensors',
      f: 'model-00003-of-00003.safetensors',
      g: 'model-00003-of-00003.safetensors',
    });
    const set = await readTensorSet(dir);
    expect(set.files).toHaveLength(3);
    const reader = new TensorFileReader();
    for (const s of specs) expect((await reader.read(set.tensors.get(s.name)!)).equals(bytesOf(s))).toBe(true);
    await reader.close();
  });

  it('a tensor bigger than the limit gets a shard of its own', () => {
    const shards = planShards([{ name: 'big', dtype: 'F32', shape: [1000] }, { name: 'small', dtype: 'F32', shape: [1] }], { maxShardBytes: 100 });
    expect(shards.map((s) => s.tensors.length)).toEqual([1, 1]);
    expect(shardFileName(0, 12)).toBe('model-00001-of-00012.safetensors');
  });

  it('refuses out-of-order tensors, wrong byte counts and duplicate names', async () => {
    const dir = path.join(work, 'misuse');
    fs.mkdirSync(dir);
    const w = SafetensorsWriter.create(dir, specs);
    await expect(w.beginTensor('b')).rejects.toThrow(/declared order/);
    await w.beginTensor('a');
    await expect(w.write(Buffer.alloc(401))).rejects.toThrow(/Too many bytes/);
    await w.write(Buffer.alloc(10));
    await expect(w.endTensor()).rejects.toThrow(/10 of its 400/);
    await w.abort();
    expect(() => planShards([specs[0], specs[0]])).toThrow(DeepenError);
    const w2 = SafetensorsWriter.create(path.join(work, 'misuse'), []);
    expect(w2.totalDataBytes).toBe(0);
  });

  it('odd but legal names round-trip, "__proto__" included', async () => {
    const dir = path.join(work, 'names');
    fs.mkdirSync(dir);
    const odd: TensorSpec[] = ['__proto__', 'constructor', 'ünï.çødé', 'a"b\\c'].map((name) => ({ name, dtype: 'U8', shape: [3] }));
    const w = SafetensorsWriter.create(dir, odd, { maxShardBytes: 6 });
    for (const s of odd) await w.writeTensor(s.name, bytesOf(s));
    await w.finish();
    const set = await readTensorSet(dir);
    expect([...set.tensors.keys()].sort()).toEqual(odd.map((s) => s.name).sort());
    const reader = new TensorFileReader();
    for (const s of odd) expect((await reader.read(set.tensors.get(s.name)!)).equals(bytesOf(s))).toBe(true);
    await reader.close();
  });

  it('an empty tensor list still gives a valid file', async () => {
    const dir = path.join(work, 'empty');
    fs.mkdirSync(dir);
    const w = SafetensorsWriter.create(dir, []);
    await w.finish();
    const file = parseSafetensorsBytes(fs.readFileSync(path.join(dir, 'model.safetensors')), 'x');
    expect(file.tensors).toEqual([]);
  });
});

describe('TensorFileReader', () => {
  it('reports a file truncated after its header was read, naming the tensor', async () => {
    const dir = path.join(work, 'shrink');
    fs.mkdirSync(dir);
    const w = SafetensorsWriter.create(dir, specs.slice(0, 2));
    for (const s of specs.slice(0, 2)) await w.writeTensor(s.name, bytesOf(s));
    await w.finish();
    const set = await readTensorSet(dir);
    const file = path.join(dir, 'model.safetensors');
    fs.truncateSync(file, fs.statSync(file).size - 100);
    const reader = new TensorFileReader();
    await expect(reader.read(set.tensors.get('b')!)).rejects.toThrow(/ended early while reading tensor "b"/);
    await expect(reader.readChunk(set.tensors.get('a')!, 390, 20)).rejects.toThrow(DeepenError);
    await reader.close();
  });
});
