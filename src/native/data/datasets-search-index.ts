// Full-text indexing of a dataset after its import has committed. FTS5 is the
// costliest part of taking in a corpus (about 30 MB/s on one core), so an
// import commits its records first (browsable, filterable, usable for
// training at once) and a `dataset-index` job indexes them here, in large
// chunks: FTS5 indexes a chunk several times faster than row by row, and each
// chunk commits with the dataset's `indexed_until` mark, so a cancel or crash
// loses nothing and the next run continues from the mark. Searches meanwhile
// cover the records up to the mark; the dataset's `unindexedRecords` says how
// many are not searchable yet.
import type { Db } from './db';

/**
 * Characters of text per indexing transaction: about 0.4 s on a laptop core,
 * so other writers (a record edit, a chat message) never wait long; the
 * engine's progress writes skip a busy database instead of waiting. FTS5
 * flushes its term buffer at each commit: 8M-character chunks index as fast
 * as 24M-character ones (within this machine's run-to-run noise of ±15%),
 * 4M-character ones ~10% slower.
 */
const CHUNK_CHARS = 8_000_000;

export interface IndexContext {
  progress(fraction: number, message?: string): void;
  throwIfCancelled(): void;
}

// Whether dataset `d` has records above its mark: what decides that indexing
// is needed (the `unindexed` count is for showing progress).
const HAS_UNINDEXED = `EXISTS (SELECT 1 FROM dataset_records r WHERE r.dataset_id = d.id AND r.id > d.indexed_until)`;

/** Ready datasets with records not yet in the search index. */
export function datasetsToIndex(db: Db): string[] {
  return (db.prepare(`SELECT d.id FROM datasets d WHERE d.state = 'ready' AND ${HAS_UNINDEXED}`).pluck().all() as number[]).map(String);
}

/** Whether a ready dataset has records not yet in the search index. */
export function needsIndexing(db: Db, datasetId: string): boolean {
  return !!db.prepare(`SELECT 1 FROM datasets d WHERE d.id = ? AND d.state = 'ready' AND ${HAS_UNINDEXED}`).pluck().get(datasetId);
}

/**
 * Indexes up to `rows` more records of a dataset in one transaction; returns
 * how many it indexed (0: nothing left, or the dataset is not ready any more).
 */
export function indexSearchChunk(db: Db, datasetId: string, rows: number): number {
  return db
    .transaction(() => {
      const d = db.prepare(`SELECT state, indexed_until AS until FROM datasets WHERE id = ?`).get(datasetId) as { state: string; until: number } | undefined;
      if (!d || d.state !== 'ready') return 0;
      const last =
        (db.prepare(`SELECT id FROM dataset_records WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT 1 OFFSET ?`).pluck().get(datasetId, d.until, rows - 1) as number | undefined) ??
        (db.prepare(`SELECT max(id) FROM dataset_records WHERE dataset_id = ?`).pluck().get(datasetId) as number | null);
      if (last === null || last === undefined || last <= d.until) {
        // nothing left: the count of records waiting is 0 whatever it says
        db.prepare(`UPDATE datasets SET unindexed = 0 WHERE id = ? AND unindexed != 0`).run(datasetId);
        return 0;
      }
      const n = db.prepare(`INSERT INTO dataset_records_fts (rowid, text) SELECT id, text FROM dataset_records WHERE dataset_id = ? AND id > ? AND id <= ? ORDER BY id`).run(datasetId, d.until, last).changes;
      db.prepare(`UPDATE datasets SET indexed_until = ?, unindexed = max(0, unindexed - ?) WHERE id = ?`).run(last, n, datasetId);
      return n;
    })
    .immediate();
}

/** Indexes every record of the dataset not yet searchable, chunk by chunk; stops at a cancel with what is done kept. */
export function indexForSearch(db: Db, datasetId: string, ctx: IndexContext, opts: { chunkRows?: number } = {}): { indexed: number } {
  const d = db.prepare(`SELECT record_count AS records, total_chars AS chars, unindexed AS todo FROM datasets WHERE id = ? AND state = 'ready'`).get(datasetId) as
    | { records: number; chars: number; todo: number }
    | undefined;
  if (!d) return { indexed: 0 };
  const meanChars = d.records ? Math.max(1, d.chars / d.records) : 1000;
  const rows = opts.chunkRows ?? Math.max(64, Math.min(50_000, Math.round(CHUNK_CHARS / meanChars)));
  let indexed = 0;
  ctx.progress(0, `Indexing ${d.todo.toLocaleString('en-US')} records for search`);
  // the first chunk that finds nothing left ends the loop (and sets the count of waiting records to 0)
  for (let n; (n = indexSearchChunk(db, datasetId, rows)) > 0; ) {
    indexed += n;
    ctx.progress(Math.min(0.99, indexed / Math.max(1, d.todo)), `Indexed ${indexed.toLocaleString('en-US')} of ${d.todo.toLocaleString('en-US')} records for search`);
    ctx.throwIfCancelled();
  }
  return { indexed };
}
