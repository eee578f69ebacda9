// GGUF export, proven with llama.cpp itself (node-llama-cpp): the exported
// f32 file gives exactly the greedy ids our engine and transformers give; the
// f16 and q8_0 files load and (on these random fixtures) mostly agree.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { exportGguf } from '../../../src/native/export/gguf';
import type { GgufPrecision } from '../../../src/native/export/gguf';
import { llamaCppGreedy } from './llama-cpp';
import { fixtureNames, fixturesDir, readReference, tempCacheDir } from './reference';

const work = tempCacheDir('gguf');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe.each(fixtureNames)('%s', (name) => {
  test.each(['f32', 'f16', 'q8_0'] as GgufPrecision[])('GGUF %s runs in llama.cpp', async (type) => {
    const ref = await readReference(name);
    const file = path.join(work, `${name}.${type}.gguf`);
    const result = await exportGguf(path.join(fixturesDir, name), file, { type });
    expect(fs.statSync(file).size).toBe(result.bytes);
    const prompt = ref.inputIds[0].slice(0, 6);
    const ids = await llamaCppGreedy(file, prompt, 12);
    const expected = ref.greedyIds.slice(6);
    const agree = ids.findIndex((id, i) => id !== expected[i]);
    console.log(`[${name} gguf ${type}] llama.cpp greedy ${agree === -1 ? 'matches all 12' : `matches the first ${agree} of 12`} (${(result.bytes / 1024).toFixed(0)} KiB)`);
    if (type === 'f32') expect(ids).toEqual(expected);
    else expect(ids.length).toBe(12);
  }, 120_000);
});
