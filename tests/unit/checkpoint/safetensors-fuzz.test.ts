// Fuzzing the safetensors header parser with random and mutated inputs
// (seeded, so a failure reproduces): it must only ever throw DeepenError,
// finish each case quickly, and never allocate in proportion to numbers it
// read from the file.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeepenError } from '../../../src/shared/errors';
import { checkHeaderLength, MAX_HEADER_BYTES, parseSafetensorsBytes, readSafetensorsFile } from '../../../src/native/checkpoint/safetensors-reader';
import { cleanup, tempDir } from '../../engine/checkpoint/helpers';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const validHeader = {
  __metadata__: { format: 'pt' },
  'model.embed_tokens.weight': { dtype: 'BF16', shape: [8, 4], data_offsets: [0, 64] },
  'model.layers.0.self_attn.o_proj.weight': { dtype: 'F32', shape: [4, 4], data_offsets: [64, 128] },
  'model.norm.weight': { dtype: 'F16', shape: [4], data_offsets: [128, 136] },
  ids: { dtype: 'I64', shape: [1], data_offsets: [136, 144] },
};
const DATA = 144;

function file(header: Buffer, data: number, lengthOverride?: bigint): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(data)]);
}

const interesting = ['-1', '0', '1e308', '18446744073709551616', '9007199254740993', '1.5', 'null', 'true', '"x"', '[]', '{}', '[[[[[[[[]]]]]]]]', '"__proto__"', 'NaN', '"F64"', '"BF16"'];

/** One mutation of a valid header text. */
function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const at = Math.floor(r() * text.length);
  switch (Math.floor(r() * 9)) {
    case 0: // flip a character
      return text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
    case 1: // delete a range
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 20));
    case 2: // insert a token
      return text.slice(0, at) + pick(interesting) + text.slice(at);
    case 3: // replace a number
      return text.replace(/\d+/g, (m) => (r() < 0.2 ? pick(interesting) : m));
    case 4: // swap offsets so ranges overlap or invert
      return text.replace(/"data_offsets":\[(\d+),(\d+)\]/g, (m, a, b) => (r() < 0.3 ? `"data_offsets":[${b},${a}]` : r() < 0.3 ? `"data_offsets":[${Number(a) + 4},${Number(b) + 4}]` : m));
    case 5: // change a dtype
      return text.replace(/"dtype":"\w+"/, `"dtype":${pick(['"F32"', '"BF16"', '"U8"', '"BOOL"', '"F64"', '"Q4"', '7', 'null'])}`);
    case 6: // huge shapes
      return text.replace(/"shape":\[[^\]]*\]/, `"shape":[${pick(['4294967296,4294967296', '9007199254740991,2', '-4', '1e3', '"4"', ''])}]`);
    case 7: // deep nesting
      return text.slice(0, at) + '['.repeat(5000 + Math.floor(r() * 100000)) + text.slice(at);
    default: // truncate
      return text.slice(0, at);
  }
}

function expectOnlyDeepenErrors(bytes: Buffer, seed: number): void {
  const started = performance.now();
  try {
    const f = parseSafetensorsBytes(bytes, 'fuzz.safetensors');
    // Accepted: then every tensor lies inside the file and none overlap.
    let end = f.dataStart;
    for (const t of f.tensors) {
      if (t.length === 0) continue;
      expect(t.offset).toBeGreaterThanOrEqual(end);
      end = t.offset + t.length;
      expect(end).toBeLessThanOrEqual(bytes.length);
    }
  } catch (err) {
    if (!(err instanceof DeepenError)) throw new Error(`seed ${seed}: ${String(err)}`);
    expect(['bad_file', 'unsupported']).toContain(err.code);
    expect(err.message).toContain('fuzz.safetensors');
  }
  expect(performance.now() - started, `seed ${seed} took too long`).toBeLessThan(2000);
}

describe('safetensors header fuzzing', () => {
  it('accepts the valid header it mutates', () => {
    const f = parseSafetensorsBytes(file(Buffer.from(JSON.stringify(validHeader)), DATA), 'fuzz.safetensors');
    expect(f.tensors).toHaveLength(4);
  });

  it('survives 3000 mutated headers', () => {
    const text = JSON.stringify(validHeader);
    const rssBefore = process.memoryUsage().rss;
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      let t = text;
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) t = mutate(t, r);
      expectOnlyDeepenErrors(file(Buffer.from(t), Math.floor(r() * 2 * DATA)), seed);
    }
    // nothing proportional to the numbers in the headers (up to 2^64 bytes) was allocated; the slack is for GC timing
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 2 ** 20);
  });

  it('survives 2000 random byte strings, random length prefixes included', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed * 7919);
      const n = Math.floor(r() * 300);
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = Math.floor(r() * 256);
      if (r() < 0.5 && n >= 8) bytes.writeBigUInt64LE(BigInt(Math.floor(r() * n)), 0); // a plausible length, random JSON
      if (r() < 0.3 && n > 10) bytes[8] = 0x7b; // '{'
      expectOnlyDeepenErrors(bytes, seed);
    }
  });

  it('refuses header lengths beyond the file or the limit before allocating', () => {
    const big = Buffer.alloc(8);
    for (const n of [2n ** 64n - 1n, 2n ** 63n, BigInt(MAX_HEADER_BYTES) + 1n, 10n ** 12n]) {
      big.writeBigUInt64LE(n);
      expect(() => checkHeaderLength(big, 2 ** 40, 'x')).toThrow(DeepenError);
    }
    big.writeBigUInt64LE(1n);
    expect(() => checkHeaderLength(big, 100, 'x')).toThrow(/too small/);
  });

  const work = tempDir('fuzz');
  afterAll(() => cleanup(work));
  it('the on-disk reader agrees on 200 mutated files', async () => {
    const text = JSON.stringify(validHeader);
    const p = path.join(work, 'fuzz.safetensors');
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed * 31);
      const bytes = file(Buffer.from(mutate(text, r)), Math.floor(r() * 2 * DATA), r() < 0.2 ? BigInt(Math.floor(r() * 2 ** 40)) : undefined);
      fs.writeFileSync(p, bytes);
      let memErr: unknown = null;
      let diskErr: unknown = null;
      try {
        parseSafetensorsBytes(bytes, p);
      } catch (e) {
        memErr = e;
      }
      try {
        await readSafetensorsFile(p);
      } catch (e) {
        diskErr = e;
      }
      expect(diskErr === null ? null : (diskErr as Error).message, `seed ${seed}`).toBe(memErr === null ? null : (memErr as Error).message);
      if (diskErr) expect(diskErr).toBeInstanceOf(DeepenError);
    }
  });
});
