// Line-based readers: JSON Lines (one object per line) and plain text files
// (.txt/.md) as one document per file, per blank-line paragraph, or per line.
import type { TextSplitMode } from '../../../shared/contract/datasets';
import { forEachLine } from './line-reader';
import { decodeUtf8, invalidUtf8Reason, mb, tooLongReason, type RowSink, type SourceOptions } from './source-types';

export function describeJsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v;
}

/** Parses one JSON value that must be an object; reports why when it is not. */
export function parseJsonObject(bytes: Uint8Array, line: number, file: string, sink: RowSink, what = 'line'): void {
  const text = decodeUtf8(bytes);
  if (text === null) return sink.problem(line, invalidUtf8Reason(bytes), file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return sink.problem(line, `not valid JSON (${(err as Error).message})`, file);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return sink.problem(line, `the ${what} is ${describeJsonType(value)}, not a JSON object with fields`, file);
  }
  sink.row(value as Record<string, unknown>, line, file);
}

const isBlank = (b: Buffer) => {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
};

export async function readJsonLines(file: string, label: string, opts: SourceOptions, sink: RowSink): Promise<void> {
  await forEachLine(file, opts.maxRecordBytes, {
    line: (bytes, line) => {
      if (!isBlank(bytes)) parseJsonObject(bytes, line, label, sink);
    },
    tooLong: (line, bytes) => sink.problem(line, tooLongReason(bytes, opts.maxRecordBytes), label),
    tick: (n) => sink.tick(n),
  });
}

export async function readTextFile(file: string, label: string, mode: TextSplitMode, opts: SourceOptions, sink: RowSink): Promise<void> {
  // A paragraph or whole file is gathered line by line; `bad` marks one that
  // contained an unreadable line (it is skipped whole, once, at its first line).
  let parts: string[] = [];
  let size = 0;
  let start = 0;
  let bad: string | null = null;
  let badLine = 0;
  const flush = () => {
    if (bad !== null) sink.problem(badLine, bad, label);
    else if (parts.length) sink.doc(parts.join('\n'), start, label);
    parts = [];
    size = 0;
    bad = null;
  };
  const addLine = (text: string | null, line: number, bytes: number, reason?: string) => {
    if (!parts.length && bad === null) start = line;
    if (bad !== null) return;
    if (text === null) {
      bad = reason ?? 'unreadable line';
      badLine = line;
      return;
    }
    size += bytes + 1;
    if (size > opts.maxRecordBytes) {
      bad = `the ${mode === 'file' ? 'file' : 'paragraph'} is longer than the ${mb(opts.maxRecordBytes)} limit for one record${mode === 'file' ? ': import it per paragraph or per line instead' : ''}`;
      badLine = start;
      parts = [];
      return;
    }
    parts.push(text);
  };
  await forEachLine(file, opts.maxRecordBytes, {
    line: (bytes, line) => {
      const text = decodeUtf8(bytes);
      if (mode === 'line') {
        if (text === null) sink.problem(line, invalidUtf8Reason(bytes), label);
        else if (text.trim()) sink.doc(text, line, label);
        return;
      }
      if (mode === 'paragraph' && text !== null && !text.trim()) return flush();
      addLine(text, line, bytes.length, text === null ? invalidUtf8Reason(bytes) : undefined);
    },
    tooLong: (line, bytes) => {
      if (mode === 'line') sink.problem(line, tooLongReason(bytes, opts.maxRecordBytes), label);
      else addLine(null, line, bytes, tooLongReason(bytes, opts.maxRecordBytes));
    },
    tick: (n) => sink.tick(n),
  });
  if (mode === 'file' && parts.length && !parts.some((p) => p.trim())) parts = [];
  flush();
}
