// Bulk insertion of records during an import. Rows go in short transactions
// (so the engine's other writers never wait long for the database), many rows
// per statement (fewer native calls), and touch nothing at a random place:
// the records table and its (dataset_id) index only grow at their ends. What
// the statistics need is built once at the end, in order: the length table
// from counts kept here, the hash table from the (hash, id) pairs kept here
// and radix-sorted (or, past a few million records, by SQLite's sorter with
// INSERT … SELECT … ORDER BY). Search indexing comes after the import
// commits (./datasets-search-index).
import type { LengthCounts } from './datasets';
import type { Db } from './db';
import { HashIdList } from './import/hashes';
import { BatchReader, type RecordBatch } from './import/record-batch';
import type { Statement } from 'better-sqlite3';

const ROWS_PER_STATEMENT = 64;
/** record ids per transaction when SQLite fills the hash table (about 0.4 s each on a laptop core) */
const HASH_CHUNK_IDS = 1 << 18;
/** hash table rows per transaction when written from memory */
const HASH_ROWS_PER_TRANSACTION = 1 << 18;
const HASH_ROWS_PER_STATEMENT = 128;
/** (hash, id) pairs kept in memory at most (16 bytes each): larger imports let SQLite sort */
export const HASHES_IN_MEMORY = 4_000_000;

/**
 * A multi-row INSERT: `per` rows a statement (fewer native calls), then
 * one-row statements for the rest. `fill` writes row i's values at args[at…];
 * `inserted` hears each statement's rows and the rowid of its last one.
 */
class RowInserter {
  private readonly many: Statement;
  private readonly one: Statement;
  private readonly manyArgs: unknown[];
  private readonly oneArgs: unknown[];

  constructor(db: Db, head: string, row: string, private readonly width: number, private readonly per: number) {
    this.many = db.prepare(head + Array(per).fill(row).join(', '));
    this.one = db.prepare(head + row);
    this.manyArgs = new Array(per * width);
    this.oneArgs = new Array(width);
  }

  run(count: number, fill: (args: unknown[], at: number, i: number) => void, inserted?: (first: number, rows: number, lastId: number) => void): void {
    let i = 0;
    for (; i + this.per <= count; i += this.per) {
      for (let k = 0; k < this.per; k++) fill(this.manyArgs, k * this.width, i + k);
      const r = this.many.run(this.manyArgs);
      inserted?.(i, this.per, Number(r.lastInsertRowid));
    }
    for (; i < count; i++) {
      fill(this.oneArgs, 0, i);
      const r = this.one.run(this.oneArgs);
      inserted?.(i, 1, Number(r.lastInsertRowid));
    }
  }
}

export class RecordWriter {
  private readonly records: RowInserter;
  /** records per (length, split), written to dataset_lengths when the import commits */
  readonly lengths: LengthCounts = new Map();
  private readonly hashes: HashIdList;
  written = 0;

  constructor(
    private readonly db: Db,
    private readonly datasetId: string,
    opts: { hashesInMemory?: number } = {},
  ) {
    this.hashes = new HashIdList(opts.hashesInMemory ?? HASHES_IN_MEMORY);
    // text and data arrive as UTF-8 bytes: SQLite takes them as they are (the database is UTF-8)
    const head = `INSERT INTO dataset_records (dataset_id, text, data, hash, split, chars, line, origin) VALUES `;
    this.records = new RowInserter(db, head, `(?, CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, ?, ?, ?)`, 8, ROWS_PER_STATEMENT);
  }

  /** Writes a batch of records in one transaction. */
  write(b: RecordBatch): void {
    const n = b.count;
    for (let i = 0; i < n; i++) {
      const key = b.chars[i] * 2 + b.evalSplit[i];
      this.lengths.set(key, (this.lengths.get(key) ?? 0) + 1);
    }
    const r = new BatchReader(b);
    this.db.transaction(() =>
      this.records.run(
        n,
        (args, at, i) => this.fill(args, at, b, r, i),
        // one statement's rows get consecutive rowids (max + 1 each, in our write transaction)
        (first, rows, lastId) => this.keepHashes(b, first, rows, lastId),
      ),
    )();
    this.written += n;
  }

  private keepHashes(b: RecordBatch, from: number, count: number, lastId: number): void {
    if (!this.hashes.complete) return;
    for (let k = 0; k < count; k++) this.hashes.add(b.hash, lastId - count + 1 + k, (from + k) * 8);
  }

  /**
   * Fills the dataset's hash table in order, in short transactions. `step`
   * runs between them (cancellation, progress as a fraction). Says which way
   * the pairs were sorted.
   */
  finish(step: (fraction: number) => void = () => undefined): 'memory' | 'sqlite' {
    if (this.hashes.complete && this.idsAsKept()) {
      this.writeHashesFromMemory(step);
      return 'memory';
    }
    this.writeHashesBySql(step);
    return 'sqlite';
  }

  /** The ids kept with the hashes are the dataset's (a cheap check of the consecutive-rowid rule they were derived by). */
  private idsAsKept(): boolean {
    const list = this.hashes;
    if (list.size !== this.written) return false;
    if (!list.size) return true;
    const r = this.db.prepare(`SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM dataset_records WHERE dataset_id = ?`).get(this.datasetId) as { n: number; lo: number; hi: number };
    return r.n === list.size && r.lo === list.idAt(0) && r.hi === list.idAt(list.size - 1);
  }

  private writeHashesFromMemory(step: (fraction: number) => void): void {
    const list = this.hashes;
    const order = list.sortedOrder();
    const insert = new RowInserter(this.db, `INSERT OR IGNORE INTO dataset_hashes (dataset_id, hash, record_id) VALUES `, '(?, ?, ?)', 3, HASH_ROWS_PER_STATEMENT);
    for (let from = 0; from < order.length; from += HASH_ROWS_PER_TRANSACTION) {
      step(from / order.length);
      const rows = Math.min(HASH_ROWS_PER_TRANSACTION, order.length - from);
      this.db.transaction(() =>
        insert.run(rows, (args, at, i) => {
          const p = order[from + i];
          args[at] = this.datasetId;
          args[at + 1] = list.hashAt(p);
          args[at + 2] = list.idAt(p);
        }),
      )();
    }
  }

  /** The same table for imports too large to keep their hashes in memory: SQLite sorts each chunk of ids. */
  private writeHashesBySql(step: (fraction: number) => void): void {
    const range = this.db.prepare(`SELECT min(id) AS lo, max(id) AS hi FROM dataset_records WHERE dataset_id = ?`).get(this.datasetId) as { lo: number | null; hi: number | null };
    if (range.lo === null || range.hi === null) return;
    const fill = this.db.prepare(
      `INSERT OR IGNORE INTO dataset_hashes (dataset_id, hash, record_id)
       SELECT dataset_id, hash, id FROM dataset_records WHERE dataset_id = ? AND id >= ? AND id < ? ORDER BY hash, id`,
    );
    for (let lo = range.lo; lo <= range.hi; lo += HASH_CHUNK_IDS) {
      step((lo - range.lo) / (range.hi - range.lo + 1));
      this.db.transaction(() => fill.run(this.datasetId, lo, lo + HASH_CHUNK_IDS))();
    }
  }

  private fill(args: unknown[], at: number, b: RecordBatch, r: BatchReader, i: number): void {
    r.next();
    args[at] = this.datasetId;
    args[at + 1] = r.text;
    args[at + 2] = r.data;
    args[at + 3] = b.hash.subarray(i * 8, i * 8 + 8);
    args[at + 4] = b.evalSplit[i] ? 'eval' : 'train';
    args[at + 5] = b.chars[i];
    args[at + 6] = b.line[i] < 0 ? null : b.line[i];
    args[at + 7] = b.origin ? b.origin[i] : null;
  }
}
