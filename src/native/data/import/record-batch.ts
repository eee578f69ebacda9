// Records on their way from the reader to the database, a batch at a time and
// column by column: numbers and hashes in typed arrays, and the texts as
// UTF-8 one after the other in one buffer (SQLite stores text as UTF-8: the
// writer binds the bytes and SQL casts them to TEXT, so no JavaScript string
// is rebuilt on the writer's side). The same batch is written directly
// (small imports) or posted from the reader thread to the writer (large
// ones), where every buffer moves between the threads without a copy.
// (Joining a batch's strings instead cost the reader ~4 ns a character, and
// 4096 separate strings ~5 ms a batch to clone.)
import type { DatasetSplit } from '../../../shared/contract/datasets';
import type { StoredRecord } from '../datasets-content';

/** Rows per batch, and per transaction when written. */
export const BATCH_ROWS = 4096;
/** Characters per batch: long documents make smaller batches (short transactions, bounded memory). */
export const BATCH_CHARS = 4_000_000;

export interface RecordBatch {
  count: number;
  /** every record's text as UTF-8, one after the other; textBytes[i] is record i's byte length */
  text: Uint8Array;
  textBytes: Int32Array;
  /** JSON of instruction/chat content as UTF-8 the same way; dataBytes[i] is -1 for text records (no data) */
  data: Uint8Array;
  dataBytes: Int32Array;
  /** 8 bytes per record */
  hash: Uint8Array;
  /** length in UTF-16 code units (what the app calls characters) */
  chars: Int32Array;
  /** 1 = eval, 0 = train */
  evalSplit: Uint8Array;
  /** line or row in the source, -1 when none */
  line: Float64Array;
  /** file within an imported folder, or null for every record of a single file */
  origin: (string | null)[] | null;
  /** bytes of the source read when the batch was closed (progress) */
  bytesRead: number;
}

/** The buffers of a batch, to hand to postMessage as transferables. */
export function batchTransfers(b: RecordBatch): ArrayBuffer[] {
  return [b.text, b.textBytes, b.data, b.dataBytes, b.hash, b.chars, b.evalSplit, b.line].map((a) => a.buffer as ArrayBuffer);
}

/** Reads a batch's texts and data back one record at a time, in order, as views of its buffers. */
export class BatchReader {
  private textAt = 0;
  private dataAt = 0;
  private i = 0;
  text: Uint8Array = new Uint8Array(0);
  data: Uint8Array | null = null;

  constructor(private readonly b: RecordBatch) {}

  /** Moves to the next record; its UTF-8 text and data are then in `text` and `data`. */
  next(): void {
    const b = this.b;
    const tl = b.textBytes[this.i];
    this.text = b.text.subarray(this.textAt, this.textAt + tl);
    this.textAt += tl;
    const dl = b.dataBytes[this.i];
    if (dl < 0) this.data = null;
    else {
      this.data = b.data.subarray(this.dataAt, this.dataAt + dl);
      this.dataAt += dl;
    }
    this.i++;
  }
}

/**
 * Text buffers of written batches, for the next batches: a fresh buffer costs
 * a page fault every 4 KB on first write, which made the reader a third
 * slower. The writer hands each batch's text buffer back (through
 * `recycleBatch`, or with its acknowledgement from another thread).
 */
const spareBuffers: ArrayBuffer[] = [];
const MAX_SPARE = 8;

/** Keeps a written batch's text buffer for reuse (a buffer moved to another thread is empty here and ignored). */
export function recycleBuffer(buffer: ArrayBuffer): void {
  // one grown for a huge record (up to 3 bytes a character of a 16 MB line) is let go
  if (buffer.byteLength >= TEXT_COLUMN_BYTES && buffer.byteLength <= 2 * TEXT_COLUMN_BYTES && spareBuffers.length < MAX_SPARE) spareBuffers.push(buffer);
}

export function recycleBatch(b: RecordBatch): void {
  recycleBuffer(b.text.buffer as ArrayBuffer);
}

/** The text column of a batch starts big enough for a full batch of mostly ASCII text: growing means copying. */
const TEXT_COLUMN_BYTES = BATCH_CHARS + (BATCH_CHARS >> 2);

/** A growing byte buffer for one batch's UTF-8 (its own ArrayBuffer, so it can be transferred). */
class Utf8Column {
  buf: Buffer;
  used = 0;

  constructor(initialBytes: number) {
    const spare = initialBytes === TEXT_COLUMN_BYTES ? spareBuffers.pop() : undefined;
    this.buf = spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Appends `s` as UTF-8; returns its byte length. */
  push(s: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit
    if (this.used + s.length * 3 > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + s.length * 3, 1 << 20));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    const n = this.buf.write(s, this.used, 'utf8');
    this.used += n;
    return n;
  }

  /** The bytes written, in an ArrayBuffer of their own. */
  take(): Uint8Array {
    return new Uint8Array(this.buf.buffer, 0, this.used);
  }
}

export class RecordBatchBuilder {
  private b = RecordBatchBuilder.empty();
  private batchChars = 0;

  private static empty() {
    return {
      count: 0,
      text: new Utf8Column(TEXT_COLUMN_BYTES),
      textBytes: new Int32Array(BATCH_ROWS),
      data: new Utf8Column(1 << 16),
      dataBytes: new Int32Array(BATCH_ROWS),
      hash: new Uint8Array(BATCH_ROWS * 8),
      chars: new Int32Array(BATCH_ROWS),
      evalSplit: new Uint8Array(BATCH_ROWS),
      line: new Float64Array(BATCH_ROWS),
      origin: null as (string | null)[] | null,
    };
  }

  get count(): number {
    return this.b.count;
  }

  /** Adds a record; returns true when the batch is full and should be taken. */
  add(r: StoredRecord, split: DatasetSplit, line: number | null, origin: string | null): boolean {
    const b = this.b;
    const i = b.count;
    b.textBytes[i] = b.text.push(r.text);
    b.dataBytes[i] = r.data === null ? -1 : b.data.push(r.data);
    b.hash.set(r.hash.subarray(0, 8), i * 8);
    b.chars[i] = r.chars;
    b.evalSplit[i] = split === 'eval' ? 1 : 0;
    b.line[i] = line ?? -1;
    if (origin !== null) {
      b.origin ??= new Array<string | null>(i).fill(null);
      b.origin.push(origin);
    } else b.origin?.push(null);
    b.count++;
    this.batchChars += r.chars;
    return b.count >= BATCH_ROWS || this.batchChars >= BATCH_CHARS;
  }

  /** The batch so far (its arrays trimmed to its count), and a fresh one started. */
  take(bytesRead: number): RecordBatch {
    const b = this.b;
    this.b = RecordBatchBuilder.empty();
    this.batchChars = 0;
    const n = b.count;
    return {
      count: n,
      text: b.text.take(),
      textBytes: b.textBytes.slice(0, n),
      data: b.data.take(),
      dataBytes: b.dataBytes.slice(0, n),
      hash: b.hash.slice(0, n * 8),
      chars: b.chars.slice(0, n),
      evalSplit: b.evalSplit.slice(0, n),
      line: b.line.slice(0, n),
      origin: b.origin,
      bytesRead,
    };
  }
}
