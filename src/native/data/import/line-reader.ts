// Streaming byte-level line splitting with a cap on line length: a 100 MB
// single line is skipped and reported, never held in memory. Lines are handed
// out as Buffer views (valid only during the callback) so that the common
// case copies nothing; decoding is the caller's choice.
import fs from 'node:fs/promises';

export const CHUNK_BYTES = 1 << 20;
export const DEFAULT_MAX_RECORD_BYTES = 16 << 20;

export interface LineSink {
  /** one complete line without its line break (and without a UTF-8 BOM on line 1) */
  line(bytes: Buffer, lineNo: number): void;
  /** a line longer than the cap: its length in bytes, not its content */
  tooLong(lineNo: number, bytes: number): void;
  /** after each chunk: bytes consumed so far (progress, cancellation) */
  tick?(bytesRead: number): Promise<void> | void;
}

/** Reads `file` and calls the sink for every line. Returns the number of lines. */
export async function forEachLine(file: string, maxLineBytes: number, sink: LineSink): Promise<number> {
  const fh = await fs.open(file, 'r');
  try {
    return await splitLines(async (buf) => (await fh.read(buf, 0, buf.length, null)).bytesRead, maxLineBytes, sink);
  } finally {
    await fh.close();
  }
}

/** The splitting itself, over any chunk reader (tests feed it directly). */
export async function splitLines(read: (buf: Buffer) => Promise<number>, maxLineBytes: number, sink: LineSink): Promise<number> {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  // A line that spans chunks is gathered here; it never grows past the cap.
  let carry = Buffer.allocUnsafe(Math.min(maxLineBytes, CHUNK_BYTES * 2));
  let carryLen = 0;
  let skipping = 0; // >0: inside an over-long line, this many bytes seen so far
  let lineNo = 1;
  let total = 0;
  let first = true;

  const emit = (bytes: Buffer) => {
    let b = bytes;
    if (b.length && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1);
    if (first) {
      first = false;
      if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
    }
    sink.line(b, lineNo);
  };
  const append = (part: Buffer): boolean => {
    if (carryLen + part.length > maxLineBytes) return false;
    if (carryLen + part.length > carry.length) {
      const bigger = Buffer.allocUnsafe(Math.min(maxLineBytes, Math.max(carry.length * 2, carryLen + part.length)));
      carry.copy(bigger, 0, 0, carryLen);
      carry = bigger;
    }
    part.copy(carry, carryLen);
    carryLen += part.length;
    return true;
  };

  for (;;) {
    const n = await read(chunk);
    if (n === 0) break;
    total += n;
    const data = chunk.subarray(0, n);
    let pos = 0;
    while (pos < n) {
      const nl = data.indexOf(0x0a, pos);
      const end = nl < 0 ? n : nl;
      const part = data.subarray(pos, end);
      if (skipping) skipping += part.length;
      else if (carryLen === 0 && nl >= 0) {
        if (part.length > maxLineBytes) sink.tooLong(lineNo, part.length);
        else emit(part);
      } else if (!append(part)) {
        skipping = carryLen + part.length;
        carryLen = 0;
      } else if (nl >= 0) {
        emit(carry.subarray(0, carryLen));
        carryLen = 0;
      }
      if (nl < 0) break;
      if (skipping) {
        sink.tooLong(lineNo, skipping);
        skipping = 0;
      }
      first = false;
      lineNo++;
      pos = nl + 1;
    }
    await sink.tick?.(total);
  }
  if (skipping) sink.tooLong(lineNo, skipping);
  else if (carryLen) emit(carry.subarray(0, carryLen));
  else lineNo--; // the file ended with a line break: no extra empty line
  return Math.max(0, lineNo);
}
