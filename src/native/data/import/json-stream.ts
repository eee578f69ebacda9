// A streaming reader for .json files: a top-level array of objects is split
// into its elements without parsing the whole file (a 1 GB array stays in
// bounded memory), and so are JSON values written one after another (JSON
// Lines saved as .json). A lone top-level object that wraps one array of
// records ({"data": [...]}) is unwrapped when it is small enough to parse.
import fs from 'node:fs/promises';
import { CHUNK_BYTES } from './line-reader';
import { describeJsonType, parseJsonObject } from './text-readers';
import { decodeUtf8, invalidUtf8Reason, mb, type RowSink, type SourceOptions } from './source-types';

const WRAPPER_LIMIT = 64 << 20;

export async function readJsonFile(file: string, label: string, opts: SourceOptions, sink: RowSink): Promise<void> {
  const fh = await fs.open(file, 'r');
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let carry = Buffer.allocUnsafe(64 << 10);
  let carryLen = 0;
  let depth = 0;
  let inString = false;
  let escape = false;
  let arrayMode: boolean | null = null; // null until the first non-space byte
  let inValue = false;
  let tooLong = 0; // >0: skipping an element over the limit
  let valueLine = 0;
  let line = 1;
  let total = 0;
  let elements = 0;
  let wrapper: Buffer | null = null; // a lone top-level object, kept to unwrap

  const keep = (part: Buffer) => {
    if (tooLong) return void (tooLong += part.length);
    if (carryLen + part.length > opts.maxRecordBytes && !(arrayMode === false && depth > 0 && carryLen + part.length <= WRAPPER_LIMIT && elements === 0)) {
      tooLong = carryLen + part.length;
      carryLen = 0;
      return;
    }
    if (carryLen + part.length > carry.length) {
      const bigger = Buffer.allocUnsafe(Math.max(carry.length * 2, carryLen + part.length));
      carry.copy(bigger, 0, 0, carryLen);
      carry = bigger;
    }
    part.copy(carry, carryLen);
    carryLen += part.length;
  };
  const finishValue = () => {
    elements++;
    if (tooLong) sink.problem(valueLine, `this element is ${mb(tooLong)}, longer than the ${mb(opts.maxRecordBytes)} limit for one record: it was not read`, label);
    else {
      const bytes = carry.subarray(0, carryLen);
      if (wrapper) {
        // a second top-level value: the first was a record, not a wrapper
        parseJsonObject(wrapper, 1, label, sink, 'element');
        wrapper = null;
      }
      if (arrayMode === false && elements === 1 && bytes[0] === 0x7b) wrapper = Buffer.from(bytes);
      else parseJsonObject(bytes, valueLine, label, sink, 'element');
    }
    tooLong = 0;
    carryLen = 0;
    inValue = false;
  };

  try {
    for (;;) {
      const { bytesRead: n } = await fh.read(chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      let start = inValue ? 0 : -1;
      for (let i = 0; i < n; i++) {
        const c = chunk[i];
        if (c === 0x0a) line++;
        if (inString) {
          if (escape) escape = false;
          else if (c === 0x5c) escape = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (arrayMode === null) {
          if (total - n + i === 0 && c === 0xef) {
            i += 2; // UTF-8 BOM
            continue;
          }
          arrayMode = c === 0x5b;
          if (arrayMode) {
            depth = 1;
            continue;
          }
        }
        const base = arrayMode ? 1 : 0;
        // A bare scalar (a mistake, reported as such) ends at the next separator;
        // objects and arrays end at their own closing bracket.
        if (inValue && depth === base && (c === 0x2c || (arrayMode && c === 0x5d))) {
          keep(chunk.subarray(start, i));
          finishValue();
          start = -1;
          if (c === 0x5d) depth--;
          continue;
        }
        if (!inValue) {
          if (arrayMode && (c === 0x2c || c === 0x5d)) {
            if (c === 0x5d) depth--;
            continue;
          }
          inValue = true;
          valueLine = line;
          start = i;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === base) {
            keep(chunk.subarray(start, i + 1));
            finishValue();
            start = -1;
          }
        }
      }
      if (inValue && start >= 0) keep(chunk.subarray(start, n));
      await sink.tick(total);
    }
  } finally {
    await fh.close();
  }
  if (inValue) {
    if (depth !== (arrayMode ? 1 : 0) || inString) sink.problem(valueLine, 'the file ends in the middle of this value (it is cut short or a bracket is missing)', label);
    else finishValue();
  } else if (arrayMode && depth > 0) sink.problem(line, 'the file ends before the closing "]" of the top-level array (it may be cut short)', label);
  if (wrapper) unwrap(wrapper, label, sink);
  if (arrayMode === null) sink.problem(1, 'the file holds no JSON value', label);
}

/** A lone top-level object: either one record, or a wrapper with one array of records. */
function unwrap(bytes: Buffer, label: string, sink: RowSink): void {
  const text = decodeUtf8(bytes);
  if (text === null) return sink.problem(1, invalidUtf8Reason(bytes), label);
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return sink.problem(1, `not valid JSON (${(err as Error).message})`, label);
  }
  const arrays = Object.entries(value).filter(([, v]) => Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === 'object' && !Array.isArray(x)));
  const others = Object.values(value).filter((v) => typeof v === 'string').length;
  if (arrays.length === 1 && others === 0) {
    (arrays[0][1] as unknown[]).forEach((row, i) => {
      if (row === null || typeof row !== 'object' || Array.isArray(row)) sink.problem(i + 1, `element ${i + 1} is ${describeJsonType(row)}, not an object`, label);
      else sink.row(row as Record<string, unknown>, i + 1, label);
    });
  } else sink.row(value, 1, label);
}
