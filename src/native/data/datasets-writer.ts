// Bulk insertion of records during an import: rows go in short transactions
// (so the engine's other writers never wait long for the database), many rows
// per statement (fewer native calls), and into the search index in large
// chunks (FTS5 indexes a chunk several times faster than row by row).
import type { DatasetSplit } from '../../shared/contract/datasets';
import type { Db } from './db';
import type { StoredRecord } from './datasets-content';
import type { Statement } from 'better-sqlite3';

const ROWS_PER_STATEMENT = 64;

export interface PendingRecord extends StoredRecord {
  split: DatasetSplit;
  line: number | null;
  origin: string | null;
}

export interface WriterOptions {
  /** rows per transaction */
  batchRows?: number;
  /** characters per transaction */
  batchChars?: number;
  /** characters indexed for search per transaction */
  indexChars?: number;
}

export class RecordWriter {
  private pending: PendingRecord[] = [];
  private pendingChars = 0;
  private unindexedChars = 0;
  private unindexedRows = 0;
  private lastIndexedId = 0;
  private readonly multi: Statement;
  private readonly single: Statement;
  private readonly indexRange: Statement;
  private readonly batchRows: number;
  private readonly batchChars: number;
  private readonly indexChars: number;
  /** every hash written by this import: duplicates are found here, not by a database index */
  private readonly seen = new HashSet64();
  written = 0;

  constructor(
    private readonly db: Db,
    private readonly datasetId: string,
    opts: WriterOptions = {},
  ) {
    this.batchRows = opts.batchRows ?? 4096;
    this.batchChars = opts.batchChars ?? 4_000_000;
    this.indexChars = opts.indexChars ?? 24_000_000;
    const one = `(?, ?, ?, ?, ?, ?, ?, ?)`;
    const head = `INSERT INTO dataset_records (dataset_id, text, data, hash, split, chars, line, origin) VALUES `;
    this.multi = db.prepare(head + Array(ROWS_PER_STATEMENT).fill(one).join(', '));
    this.single = db.prepare(head + one);
    this.indexRange = db.prepare(
      `INSERT INTO dataset_records_fts (rowid, text) SELECT id, text FROM dataset_records WHERE dataset_id = ? AND id > ? ORDER BY id`,
    );
  }

  /** Whether a record with the same normalized content was already added in this import (exact duplicate). */
  hasHash(hash: Buffer): boolean {
    return this.seen.has(hash);
  }

  /** Queues a record; returns true when a transaction was committed (a good moment to report progress). */
  add(r: PendingRecord): boolean {
    this.pending.push(r);
    this.seen.add(r.hash);
    this.pendingChars += r.chars;
    if (this.pending.length >= this.batchRows || this.pendingChars >= this.batchChars) {
      this.flush();
      return true;
    }
    return false;
  }

  /** Commits the pending rows, then indexes them for search once enough text has gathered. */
  flush(): void {
    if (this.pending.length) {
      const rows = this.pending;
      this.pending = [];
      this.unindexedChars += this.pendingChars;
      this.unindexedRows += rows.length;
      this.pendingChars = 0;
      this.db.transaction(() => {
        let i = 0;
        const args: unknown[] = new Array(ROWS_PER_STATEMENT * 8);
        for (; i + ROWS_PER_STATEMENT <= rows.length; i += ROWS_PER_STATEMENT) {
          for (let k = 0; k < ROWS_PER_STATEMENT; k++) this.fill(args, k * 8, rows[i + k]);
          this.multi.run(args);
        }
        const one: unknown[] = new Array(8);
        for (; i < rows.length; i++) {
          this.fill(one, 0, rows[i]);
          this.single.run(one);
        }
      })();
      this.written += rows.length;
    }
    if (this.unindexedChars >= this.indexChars) this.index();
  }

  /** Writes everything left and indexes it. */
  finish(): void {
    this.flush();
    this.index();
  }

  private index(): void {
    if (!this.unindexedRows) return;
    const maxId = this.db.transaction(() => {
      this.indexRange.run(this.datasetId, this.lastIndexedId);
      return (this.db.prepare(`SELECT max(id) AS m FROM dataset_records WHERE dataset_id = ?`).get(this.datasetId) as { m: number | null }).m;
    })();
    this.lastIndexedId = maxId ?? this.lastIndexedId;
    this.unindexedChars = 0;
    this.unindexedRows = 0;
  }

  private fill(args: unknown[], at: number, r: PendingRecord): void {
    args[at] = this.datasetId;
    args[at + 1] = r.text;
    args[at + 2] = r.data;
    args[at + 3] = r.hash;
    args[at + 4] = r.split;
    args[at + 5] = r.chars;
    args[at + 6] = r.line;
    args[at + 7] = r.origin;
  }
}

/**
 * An exact set of 64-bit hashes in two typed arrays (open addressing, linear
 * probing, grown at half full): 16 bytes a record, so a 1 GB file of a
 * couple of million records needs about 32 MB, and no object per entry.
 */
export class HashSet64 {
  private hi = new Uint32Array(1 << 16);
  private lo = new Uint32Array(1 << 16);
  private used = new Uint8Array(1 << 16);
  size = 0;

  private slot(h: number, l: number): number {
    const mask = this.used.length - 1;
    let i = (Math.imul(l ^ (h >>> 7), 0x9e3779b1) >>> 0) & mask;
    while (this.used[i] && (this.hi[i] !== h || this.lo[i] !== l)) i = (i + 1) & mask;
    return i;
  }

  has(hash: Uint8Array): boolean {
    const v = new DataView(hash.buffer, hash.byteOffset, 8);
    return this.used[this.slot(v.getUint32(0, true), v.getUint32(4, true))] === 1;
  }

  add(hash: Uint8Array): void {
    const v = new DataView(hash.buffer, hash.byteOffset, 8);
    this.put(v.getUint32(4, true), v.getUint32(0, true));
  }

  private put(l: number, h: number): void {
    const i = this.slot(h, l);
    if (this.used[i]) return;
    this.used[i] = 1;
    this.hi[i] = h;
    this.lo[i] = l;
    if (++this.size * 2 > this.used.length) this.grow();
  }

  private grow(): void {
    const { hi, lo, used } = this;
    this.hi = new Uint32Array(used.length * 2);
    this.lo = new Uint32Array(used.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i]) this.put(lo[i], hi[i]);
  }
}
