// What every import reader produces: structured rows (JSON objects, CSV and
// parquet rows) or plain documents (text files, source files), plus problems
// with the file and line they came from. Readers push into a sink with
// synchronous calls (fast: no promise per record) and await only between
// chunks, where the sink reports progress and checks for cancellation.

export interface RowSink {
  /** a structured row: field name → value */
  row(value: Record<string, unknown>, line: number, file: string): void;
  /** a plain-text document */
  doc(text: string, line: number, file: string): void;
  /** a line or row that could not be read */
  problem(line: number, reason: string, file: string): void;
  /** between chunks: bytes consumed so far */
  tick(bytesDone: number): Promise<void> | void;
}

export interface SourceOptions {
  maxRecordBytes: number;
}

/** Thrown by a sink to stop a reader early (preview has seen enough). */
export class StopReading extends Error {
  constructor() {
    super('stop');
  }
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly; null when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** Index of the first byte that is not valid UTF-8 (for the report), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = (c & 0xe0) === 0xc0 ? 1 : (c & 0xf0) === 0xe0 ? 2 : (c & 0xf8) === 0xf0 ? 3 : 0;
    if (!n) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    const min = n === 1 ? 0x80 : n === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

export function invalidUtf8Reason(bytes: Uint8Array): string {
  const at = firstInvalidUtf8(bytes);
  return `invalid UTF-8 at byte ${at + 1} of the line: this part of the file is not UTF-8 text (re-save the file as UTF-8)`;
}

export function mb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

export function tooLongReason(bytes: number, max: number): string {
  return `the line is ${mb(bytes)}, longer than the ${mb(max)} limit for one record: it was not read (split it, or raise the limit)`;
}
