// External-data weights files: every tensor of a model, converted to the
// precision an execution provider wants, written once into one file that
// sessions mmap by path. Each tensor starts on a 64 KiB boundary (so a
// mapping never shares a page between tensors and ORT can use it in place).
//
// Cache layout: <cacheRoot>/<checkpoint-hash>/<key>/
//   weights.bin     the tensors
//   manifest.json   tensor name → offset/length/dtype/shape; written last, so
//                   a folder without it is an unfinished build
//   *.onnx          graphs that reference weights.bin (written by model/)
// <key> hashes the checkpoint identity (path, size, mtime of every file), the
// precision and the layout version: a changed checkpoint gets a new folder
// and the stale sibling folders are removed.

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { handleWriter, writeFully } from '../fs-write';
import { dtypeBytes, f32ToF16Bits, type DType } from './graph';

export const WEIGHTS_FILE = 'weights.bin';
export const MANIFEST_FILE = 'manifest.json';
export const ALIGNMENT = 64 * 1024;

export type WeightPrecision = 'fp32' | 'fp16';
export const precisionDtype = (p: WeightPrecision): DType => (p === 'fp16' ? 'float16' : 'float32');

export interface WeightSpec {
  /** initializer name in the graph */
  name: string;
  shape: number[];
  /** Writes the tensor's values (row-major, `shape`) as float32 into `out`. */
  fill(out: Float32Array): Promise<void>;
}

export interface ManifestEntry {
  offset: number;
  length: number;
  dtype: DType;
  shape: number[];
}

export interface WeightsManifest {
  version: number;
  key: string;
  precision: WeightPrecision;
  tensors: Record<string, ManifestEntry>;
  bytes: number;
  createdAt: string;
}

export interface FileIdentity {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Identity of a checkpoint's files: a change to any of them invalidates its weights files. */
export async function fileIdentities(files: readonly string[]): Promise<FileIdentity[]> {
  const out: FileIdentity[] = [];
  for (const f of [...files].sort()) {
    const st = await fs.stat(f);
    out.push({ path: path.resolve(f), size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
  }
  return out;
}

const hash = (s: string, n = 16) => createHash('sha256').update(s).digest('hex').slice(0, n);

export interface WeightsFolder {
  dir: string;
  manifest: WeightsManifest;
  /** true when this call wrote the file, false when the cache was reused */
  built: boolean;
}

export interface EnsureOptions {
  cacheRoot: string;
  /** the checkpoint folder: names the cache group whose stale entries are pruned */
  checkpointDir: string;
  identity: FileIdentity[];
  precision: WeightPrecision;
  /** bump when the tensor layout produced by the caller changes */
  layoutVersion: string;
  specs: WeightSpec[];
  onProgress?: (done: number, total: number) => void;
  /**
   * fsync the weights file before it is published (default true: a cache that
   * survived a power cut half-written would give wrong numbers). A throwaway
   * cache skips it; for a 1.1B model that is ~20 s of waiting on the disk.
   */
  durable?: boolean;
}

/** The weights folder for a checkpoint + precision, built (atomically) only when missing. */
export async function ensureWeightsFile(opts: EnsureOptions): Promise<WeightsFolder> {
  const group = path.join(opts.cacheRoot, hash(path.resolve(opts.checkpointDir)));
  const keyText = JSON.stringify({ identity: opts.identity, precision: opts.precision, layout: opts.layoutVersion, names: opts.specs.map((s) => [s.name, s.shape]) });
  const key = `${opts.precision}-${hash(keyText)}`;
  const dir = path.join(group, key);
  const existing = await readManifest(dir);
  if (existing && existing.key === keyText) return { dir, manifest: existing, built: false };

  await fs.mkdir(dir, { recursive: true });
  const manifest = await writeWeights(dir, keyText, opts);
  await pruneSiblings(group, key);
  return { dir, manifest, built: true };
}

async function readManifest(dir: string): Promise<WeightsManifest | null> {
  try {
    const m = JSON.parse(await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as WeightsManifest;
    const st = await fs.stat(path.join(dir, WEIGHTS_FILE));
    return st.size >= m.bytes ? m : null;
  } catch {
    return null;
  }
}

const align = (n: number) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

async function writeWeights(dir: string, keyText: string, opts: EnsureOptions): Promise<WeightsManifest> {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = path.join(dir, `${WEIGHTS_FILE}.tmp-${suffix}`);
  const tensors: Record<string, ManifestEntry> = {};
  const fh = await fs.open(tmp, 'w');
  let offset = 0;
  try {
    let done = 0;
    for (const spec of opts.specs) {
      const count = spec.shape.reduce((a, b) => a * b, 1);
      const dtype = precisionDtype(opts.precision);
      const values = new Float32Array(count);
      await spec.fill(values);
      const bytes = dtype === 'float16' ? toF16Bytes(values) : new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      offset = align(offset);
      await writeFully(handleWriter(fh), bytes, offset);
      tensors[spec.name] = { offset, length: count * dtypeBytes[dtype], dtype, shape: spec.shape };
      offset += bytes.byteLength;
      opts.onProgress?.(++done, opts.specs.length);
    }
    // A file ending in a hole still has the right size for the last tensor.
    await fh.truncate(offset);
    if (opts.durable !== false) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    if ((err as { code?: string }).code === 'ENOSPC') {
      throw new DeepenError('out_of_disk', `The disk is full while writing the ${opts.precision} weights file in ${dir}. Free some space and load the model again.`, { dir });
    }
    throw err;
  }
  await fh.close();
  await fs.rename(tmp, path.join(dir, WEIGHTS_FILE));
  const manifest: WeightsManifest = { version: 1, key: keyText, precision: opts.precision, tensors, bytes: offset, createdAt: new Date().toISOString() };
  const mtmp = path.join(dir, `${MANIFEST_FILE}.tmp-${suffix}`);
  await fs.writeFile(mtmp, JSON.stringify(manifest));
  await fs.rename(mtmp, path.join(dir, MANIFEST_FILE));
  return manifest;
}

function toF16Bytes(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return new Uint8Array(out.buffer);
}

/** Remove other builds of the same checkpoint folder (the checkpoint changed since). */
async function pruneSiblings(group: string, keep: string): Promise<void> {
  const entries = await fs.readdir(group).catch(() => [] as string[]);
  const precision = keep.split('-')[0];
  for (const e of entries) {
    // Other precisions of the same checkpoint stay: both may be in use.
    if (e !== keep && e.startsWith(`${precision}-`)) await fs.rm(path.join(group, e), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Write a graph next to its weights file, atomically; returns its path. */
export async function writeGraphFile(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  try {
    const st = await fs.stat(file);
    if (st.size === bytes.byteLength && Buffer.compare(await fs.readFile(file), Buffer.from(bytes)) === 0) return file;
  } catch {
    // not there yet
  }
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, file);
  return file;
}

// --- dtype conversion of checkpoint bytes ---------------------------------

/** Float32 values from raw little-endian checkpoint bytes of a float dtype (safetensors spelling). */
export function toFloat32(bytes: Uint8Array, dtype: string): Float32Array {
  switch (dtype) {
    case 'F32': {
      // Copy: the source buffer may be unaligned or reused.
      const out = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case 'BF16': {
      // bf16 is the top half of an f32: widen 16-bit words (little-endian, as
      // safetensors and every platform Deepen runs on store them).
      const n = bytes.byteLength / 2;
      const out = new Float32Array(n);
      const u32 = new Uint32Array(out.buffer);
      const aligned = bytes.byteOffset % 2 === 0 ? bytes : Uint8Array.from(bytes);
      const u16 = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
      for (let i = 0; i < n; i++) u32[i] = u16[i] << 16;
      return out;
    }
    case 'F16': {
      const n = bytes.byteLength / 2;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16BitsToF32(bytes[2 * i] | (bytes[2 * i + 1] << 8));
      return out;
    }
    default:
      throw new DeepenError('unsupported', `Weights of type ${dtype} cannot be converted to float; Deepen reads F32, F16 and BF16 weights.`, { dtype });
  }
}

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
