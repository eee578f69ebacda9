// Weights files: 64 KiB alignment, precision conversion, reuse while the
// checkpoint is unchanged, rebuild (and pruning) when it changes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ALIGNMENT, ensureWeightsFile, f16BitsToF32, fileIdentities, toFloat32, WEIGHTS_FILE, type WeightSpec } from '../../../src/native/onnx/weights-file';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'deepen-wf-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const specs = (scale = 1): WeightSpec[] => [
  { name: 'a', shape: [3], fill: async (out) => out.set([1, -2, 0.5].map((x) => x * scale)) },
  { name: 'b', shape: [2, 2], fill: async (out) => out.set([1e-3, 2, 3, 65504]) },
];

describe('ensureWeightsFile', () => {
  const ckptDir = path.join(root, 'ckpt');
  fs.mkdirSync(ckptDir);
  const file = path.join(ckptDir, 'model.safetensors');
  fs.writeFileSync(file, 'v1');
  const base = async (precision: 'fp32' | 'fp16', s = specs()) =>
    ensureWeightsFile({ cacheRoot: path.join(root, 'cache'), checkpointDir: ckptDir, identity: await fileIdentities([file]), precision, layoutVersion: 't1', specs: s });

  test('aligns every tensor to 64 KiB and stores float32 values', async () => {
    const w = await base('fp32');
    expect(w.built).toBe(true);
    expect(w.manifest.tensors.a).toMatchObject({ offset: 0, length: 12, dtype: 'float32', shape: [3] });
    expect(w.manifest.tensors.b.offset).toBe(ALIGNMENT);
    const bytes = fs.readFileSync(path.join(w.dir, WEIGHTS_FILE));
    expect(bytes.length).toBe(ALIGNMENT + 16);
    const b = new Float32Array(bytes.buffer.slice(bytes.byteOffset + ALIGNMENT, bytes.byteOffset + ALIGNMENT + 16));
    expect(Array.from(b)).toEqual([Math.fround(1e-3), 2, 3, 65504]);
    expect(fs.readdirSync(w.dir).some((f) => f.includes('.tmp-'))).toBe(false);
  });

  test('is reused while the checkpoint is unchanged', async () => {
    const again = await base('fp32', specs(100)); // fill is never called: the cache answers
    expect(again.built).toBe(false);
    const bytes = fs.readFileSync(path.join(again.dir, WEIGHTS_FILE));
    expect(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 12))[1]).toBe(-2);
  });

  test('writes fp16 next to fp32 and rebuilds when the checkpoint changes', async () => {
    const half = await base('fp16');
    expect(half.manifest.tensors.b).toMatchObject({ dtype: 'float16', length: 8 });
    const raw = fs.readFileSync(path.join(half.dir, WEIGHTS_FILE));
    expect(f16BitsToF32(raw.readUInt16LE(ALIGNMENT + 6))).toBe(65504);
    const fp32Dir = (await base('fp32')).dir;

    fs.writeFileSync(file, 'v2 is longer');
    const rebuilt = await base('fp32');
    expect(rebuilt.built).toBe(true);
    expect(rebuilt.dir).not.toBe(fp32Dir);
    expect(fs.existsSync(fp32Dir)).toBe(false); // stale fp32 build pruned
    expect(fs.existsSync(half.dir)).toBe(true); // other precisions stay until rebuilt
  });
});

test('converts bf16 and f16 checkpoint bytes to float32', () => {
  // 1.5 in bf16 is 0x3fc0; -2 in f16 is 0xc000
  expect(Array.from(toFloat32(new Uint8Array([0xc0, 0x3f, 0x80, 0xbf]), 'BF16'))).toEqual([1.5, -1]);
  expect(Array.from(toFloat32(new Uint8Array([0x00, 0xc0, 0x00, 0x3c]), 'F16'))).toEqual([-2, 1]);
  expect(Array.from(toFloat32(new Uint8Array(new Float32Array([3.25]).buffer), 'F32'))).toEqual([3.25]);
  expect(() => toFloat32(new Uint8Array(8), 'I64')).toThrow(/F32, F16 and BF16/);
  // bf16 bytes at an odd offset (a slice of a pooled buffer) convert the same
  const odd = new Uint8Array([0, 0xc0, 0x3f, 0x80, 0xbf]).subarray(1);
  expect(odd.byteOffset % 2).toBe(1);
  expect(Array.from(toFloat32(odd, 'BF16'))).toEqual([1.5, -1]);
});
