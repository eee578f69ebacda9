// Reads the reference outputs that sit next to each fixture checkpoint
// (`<name>.reference.safetensors`, written by transformers) through the
// checkpoint module's safetensors reader.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsFile, TensorFileReader } from '../../../src/native/checkpoint/safetensors-reader';
import type { LoadedModel } from '../../../src/native/model/load';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures/hf');

/** Every fixture checkpoint folder that has a reference file. */
export const fixtureNames: string[] = fs.existsSync(fixturesDir)
  ? fs
      .readdirSync(fixturesDir)
      .filter((n) => fs.existsSync(path.join(fixturesDir, `${n}.reference.safetensors`)) && fs.statSync(path.join(fixturesDir, n)).isDirectory())
      .sort()
  : [];

export interface Reference {
  inputIds: number[][];
  /** (B, T, V) */
  logits: Float32Array;
  expandedLogits: Float32Array | null;
  greedyIds: number[];
  vocab: number;
}

export async function readReference(name: string): Promise<Reference> {
  const file = await readSafetensorsFile(path.join(fixturesDir, `${name}.reference.safetensors`));
  const reader = new TensorFileReader();
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const f32 = async (n: string) => {
    const t = byName.get(n);
    if (!t) return null;
    const b = await reader.read(t);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const i64 = async (n: string) => {
    const b = await reader.read(byName.get(n)!);
    return Array.from(new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), Number);
  };
  try {
    const ids = byName.get('input_ids')!;
    const flat = await i64('input_ids');
    const [B, T] = ids.shape;
    const inputIds = Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
    const logitsInfo = byName.get('logits')!;
    return {
      inputIds,
      logits: (await f32('logits'))!,
      expandedLogits: await f32('expanded.logits'),
      greedyIds: await i64('greedy_ids'),
      vocab: logitsInfo.shape[2],
    };
  } finally {
    await reader.close();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Greedy decoding through a model's KV-cache decoder: the prompt, then `newTokens` argmax ids. */
export async function greedyDecode(model: LoadedModel, prompt: number[], newTokens: number): Promise<number[]> {
  const dec = model.createDecoder();
  try {
    const out = [...prompt];
    let logits = await dec.prefill(prompt);
    for (let i = 0; i < newTokens; i++) {
      const next = argmax(logits);
      out.push(next);
      if (i < newTokens - 1) logits = await dec.step(next);
    }
    return out;
  } finally {
    dec.dispose();
  }
}

/** A cache folder private to one test file. */
export function tempCacheDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `deepen-${tag}-`));
}
