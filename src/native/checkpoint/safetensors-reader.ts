// A streaming safetensors reader of our own. The file layout is
//   [u64 LE header length N][N bytes of JSON header][data section]
// where the JSON maps tensor name → {dtype, shape, data_offsets: [begin, end]}
// (offsets relative to the data section) plus an optional `__metadata__`
// string → string map. We validate the header completely before trusting any
// offset, and then read tensors by byte range: the file is never loaded whole.
import fs from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { dtypeBytes, elementCount, isDtype, supportedDtypes, type Dtype } from './dtypes';

/** A header larger than this is refused, so a corrupt length never makes us allocate gigabytes. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** absolute path of the file holding the bytes */
  file: string;
  /** absolute byte offset in `file` (header already skipped) */
  offset: number;
  /** byte length = element count × dtype size */
  length: number;
}

export interface SafetensorsFile {
  file: string;
  fileSize: number;
  /** N, the JSON header's byte length (including any padding) */
  headerLength: number;
  /** 8 + N: where the data section starts */
  dataStart: number;
  metadata: Record<string, string>;
  /** in file order (by offset) */
  tensors: TensorInfo[];
}

const badFile = (file: string, what: string, details: Record<string, unknown> = {}) =>
  new DeepenError('bad_file', `${path.basename(file)} is not a valid safetensors file: ${what}. Re-download or re-export the checkpoint.`, {
    file,
    ...details,
  });

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates a header's JSON bytes against a data section of `dataBytes` bytes.
 * Pure (no I/O) so that it can be fuzzed; throws only DeepenError('bad_file' |
 * 'unsupported').
 */
export function parseSafetensorsHeader(
  header: Uint8Array,
  opts: { file: string; dataStart: number; dataBytes: number },
): { metadata: Record<string, string>; tensors: TensorInfo[] } {
  const { file, dataStart, dataBytes } = opts;
  let json: unknown;
  try {
    // fatal: invalid UTF-8 is an error rather than silently replaced characters
    const text = new TextDecoder('utf-8', { fatal: true }).decode(header);
    if (!text.startsWith('{')) throw new Error('the header does not start with "{"');
    json = JSON.parse(text);
  } catch (err) {
    throw badFile(file, `its JSON header is malformed (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) throw badFile(file, 'its JSON header is not an object');

  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, file);
      continue;
    }
    tensors.push(parseEntry(name, value, file, dataStart, dataBytes));
  }

  // No two tensors may share bytes. Empty tensors occupy nothing and are skipped.
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset || a.length - b.length);
  let prev: TensorInfo | null = null;
  for (const t of byOffset) {
    if (t.length === 0) continue;
    if (prev && t.offset < prev.offset + prev.length) {
      throw badFile(file, `tensors "${prev.name}" and "${t.name}" overlap (bytes ${prev.offset - dataStart}–${prev.offset - dataStart + prev.length} and ${t.offset - dataStart}–${t.offset - dataStart + t.length})`, {
        tensor: t.name,
        other: prev.name,
      });
    }
    prev = t;
  }
  return { metadata, tensors: byOffset };
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (!isPlainObject(value)) throw badFile(file, '"__metadata__" is not an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badFile(file, `"__metadata__.${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, value: unknown, file: string, dataStart: number, dataBytes: number): TensorInfo {
  const bad = (what: string) => badFile(file, `tensor "${name}" ${what}`, { tensor: name });
  if (!isPlainObject(value)) throw bad('is not an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw bad('has no dtype');
  if (!isDtype(dtype)) {
    throw new DeepenError(
      'unsupported',
      `Tensor "${name}" in ${path.basename(file)} has dtype ${JSON.stringify(dtype).slice(0, 40)}, which Deepen does not handle (supported: ${supportedDtypes.join(', ')}). Convert the checkpoint to one of those.`,
      { file, tensor: name, dtype: String(dtype).slice(0, 40) },
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('has a shape that is not a list of non-negative integers');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw bad('has data_offsets that are not two non-negative integers');
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw bad(`has data_offsets [${begin}, ${end}] that end before they begin`);
  if (end > dataBytes) throw bad(`has data_offsets [${begin}, ${end}] beyond the data section (${dataBytes} bytes): the file is truncated or the header is wrong`);
  const count = elementCount(shape as number[]);
  const expected = count === null ? null : count * dtypeBytes[dtype];
  if (expected === null || !Number.isSafeInteger(expected)) throw bad(`has a shape [${shape.join(', ')}] too large to address`);
  if (expected !== end - begin) {
    throw bad(`is ${dtype} [${shape.join(', ')}] = ${expected} bytes, but data_offsets [${begin}, ${end}] span ${end - begin} bytes`);
  }
  return { name, dtype, shape: shape as number[], file, offset: dataStart + begin, length: end - begin };
}

/**
 * Validates the leading u64 header length against the file size, before
 * anything is allocated for the header. Returns it as a number.
 */
export function checkHeaderLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || first8.length < 8) throw badFile(file, `it is ${fileSize} bytes long, too short to hold the 8-byte header length (truncated file?)`);
  const n = Buffer.from(first8.buffer, first8.byteOffset, 8).readBigUInt64LE(0);
  if (n > BigInt(fileSize - 8)) {
    throw badFile(file, `its header length (${n} bytes) is beyond the end of the file (${fileSize} bytes): the file is truncated or not safetensors`, { headerLength: n.toString() });
  }
  if (n > BigInt(MAX_HEADER_BYTES)) throw badFile(file, `its header is ${n} bytes, more than the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2n) throw badFile(file, `its header length (${n}) is too small to hold a JSON object`);
  return Number(n);
}

/**
 * Parses a whole safetensors file held in memory (small files and tests):
 * the same checks as readSafetensorsFile.
 */
export function parseSafetensorsBytes(bytes: Uint8Array, file: string): SafetensorsFile {
  const headerLength = checkHeaderLength(bytes.subarray(0, 8), bytes.length, file);
  const dataStart = 8 + headerLength;
  const { metadata, tensors } = parseSafetensorsHeader(bytes.subarray(8, dataStart), { file, dataStart, dataBytes: bytes.length - dataStart });
  return { file, fileSize: bytes.length, headerLength, dataStart, metadata, tensors };
}

/** Reads and validates one file's header (at most 8 + MAX_HEADER_BYTES bytes read). */
export async function readSafetensorsFile(file: string): Promise<SafetensorsFile> {
  const abs = path.resolve(file);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(abs, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DeepenError('not_found', `${abs} does not exist. Check the path.`, { file: abs });
    throw new DeepenError('bad_file', `Could not open ${abs}: ${(err as Error).message}.`, { file: abs });
  }
  try {
    const { size: fileSize } = await fh.stat();
    if (fileSize < 8) checkHeaderLength(new Uint8Array(0), fileSize, abs);
    const lenBuf = await readExactly(fh, 0, 8, abs, '(header length)');
    const headerLength = checkHeaderLength(lenBuf, fileSize, abs);
    const header = await readExactly(fh, 8, headerLength, abs, '(header)');
    const dataStart = 8 + headerLength;
    const { metadata, tensors } = parseSafetensorsHeader(header, { file: abs, dataStart, dataBytes: fileSize - dataStart });
    return { file: abs, fileSize, headerLength, dataStart, metadata, tensors };
  } finally {
    await fh.close();
  }
}

/** Reads exactly `length` bytes at `position` (fs.read may return fewer, so loop). */
export async function readExactly(fh: fs.FileHandle, position: number, length: number, file: string, what: string, into?: Buffer): Promise<Buffer> {
  const buf = into ?? Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new DeepenError('bad_file', `${path.basename(file)} ended early while reading ${what}: the file is truncated or was changed while Deepen read it.`, { file });
    }
    done += bytesRead;
  }
  return buf;
}

/**
 * Keeps one open handle per file so that reading many tensors from a shard
 * does not reopen it each time. Call close() when done.
 */
export class TensorFileReader {
  private handles = new Map<string, Promise<fs.FileHandle>>();

  private handle(file: string): Promise<fs.FileHandle> {
    let h = this.handles.get(file);
    if (!h) {
      h = fs.open(file, 'r').catch((err) => {
        this.handles.delete(file);
        throw new DeepenError('not_found', `Could not open ${file}: ${(err as Error).message}. Was the checkpoint moved or deleted?`, { file });
      });
      this.handles.set(file, h);
    }
    return h;
  }

  /** The whole tensor in a new Buffer (for tensors under the Buffer size limit). */
  async read(t: TensorInfo): Promise<Buffer> {
    if (t.length > bufferConstants.MAX_LENGTH) {
      throw new DeepenError('unsupported', `Tensor "${t.name}" is ${t.length} bytes, too large to hold in one buffer; read it in chunks with readChunk().`, { tensor: t.name, file: t.file });
    }
    return this.readChunk(t, 0, t.length);
  }

  /** `length` bytes of tensor `t` starting `start` bytes into it, into `into` if given. */
  async readChunk(t: TensorInfo, start: number, length: number, into?: Buffer): Promise<Buffer> {
    if (start < 0 || length < 0 || start + length > t.length) {
      throw new DeepenError('internal', `Chunk ${start}+${length} is outside tensor "${t.name}" (${t.length} bytes).`, { tensor: t.name });
    }
    const fh = await this.handle(t.file);
    return readExactly(fh, t.offset + start, length, t.file, `tensor "${t.name}"`, into);
  }

  async close(): Promise<void> {
    const hs = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(hs.map(async (h) => (await h.catch(() => null))?.close()));
  }
}
