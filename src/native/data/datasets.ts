// SQL for datasets as a whole: create, list, rename, count, delete. Records
// are in ./datasets-records, statistics in ./datasets-stats. Every query takes
// the database first and binds its parameters.
import type { DatasetDetail, DatasetKind, DatasetState, DatasetSummary, ImportReport, TokenizerCache } from '../../shared/contract/datasets';
import { DeepenError } from '../../shared/errors';
import type { Db } from './db';

interface DatasetRow {
  id: number;
  name: string;
  kind: DatasetKind;
  state: DatasetState;
  source: string;
  created_at: number;
  updated_at: number;
  record_count: number;
  total_chars: number;
  train_count: number;
  eval_count: number;
  eval_ratio: number;
  split_seed: number;
  job_id: string | null;
  last_import: string | null;
  indexed_until: number;
  /** records above indexed_until */
  unindexed: number;
}

// Ids are integers in the database and strings in the contract (SQLite's
// integer affinity turns a bound '17' back into 17 in comparisons).
const toSummary = (r: DatasetRow): DatasetSummary => ({
  id: String(r.id),
  name: r.name,
  kind: r.kind,
  state: r.state,
  source: r.source,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  records: r.record_count,
  characters: r.total_chars,
  trainRecords: r.train_count,
  evalRecords: r.eval_count,
  evalRatio: r.eval_ratio,
  splitSeed: r.split_seed,
  unindexedRecords: r.state === 'ready' ? r.unindexed : 0,
});

export const MAX_NAME_LENGTH = 120;

export function checkDatasetName(name: unknown): string {
  const n = typeof name === 'string' ? name.trim() : '';
  if (!n) throw new DeepenError('bad_request', 'A dataset needs a name.');
  if (n.length > MAX_NAME_LENGTH) throw new DeepenError('bad_request', `The dataset name is ${n.length} characters long; keep it under ${MAX_NAME_LENGTH}.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(n)) throw new DeepenError('bad_request', 'The dataset name contains control characters; use plain text.');
  return n;
}

/** Creates a dataset in the `importing` state (invisible to lists and readers until its import commits); returns its id. */
export function createPendingDataset(
  db: Db,
  d: { name: string; kind: DatasetKind; source: string; jobId: string | null; evalRatio: number; seed: number; now: number },
): string {
  const name = checkDatasetName(d.name);
  if (findDatasetByName(db, name)) throw new DeepenError('conflict', `A dataset named "${name}" already exists. Pick another name, or delete or rename that one first.`);
  const r = db
    .prepare(`INSERT INTO datasets (name, kind, state, source, created_at, updated_at, eval_ratio, split_seed, job_id) VALUES (?, ?, 'importing', ?, ?, ?, ?, ?, ?)`)
    .run(name, d.kind, d.source, d.now, d.now, d.evalRatio, d.seed, d.jobId);
  return String(r.lastInsertRowid);
}

export function setDatasetJob(db: Db, id: string, jobId: string): void {
  db.prepare(`UPDATE datasets SET job_id = ? WHERE id = ?`).run(jobId, id);
}

export function setDatasetKind(db: Db, id: string, kind: DatasetKind): void {
  db.prepare(`UPDATE datasets SET kind = ? WHERE id = ?`).run(kind, id);
}

/** Records per (length, split) of one dataset, keyed `chars * 2 + (eval ? 1 : 0)`: what dataset_lengths holds. */
export type LengthCounts = Map<number, number>;

/**
 * Makes an imported dataset visible, with its length table, counts and import
 * report, in one transaction. Its records are browsable from here on; search
 * covers them once the indexing job has run (see ./datasets-search-index).
 */
export function commitImport(db: Db, id: string, report: ImportReport, now: number, lengths: LengthCounts): void {
  const put = db.prepare(
    `INSERT INTO dataset_lengths (dataset_id, chars, split, records) VALUES (?, ?, ?, ?)
     ON CONFLICT (dataset_id, chars, split) DO UPDATE SET records = records + excluded.records`,
  );
  db.transaction(() => {
    for (const [key, n] of lengths) put.run(id, Math.floor(key / 2), key % 2 ? 'eval' : 'train', n);
    refreshDatasetCounts(db, id);
    // every record waits for the search index (./datasets-search-index)
    db.prepare(`UPDATE datasets SET state = 'ready', updated_at = ?, last_import = ?, job_id = NULL, unindexed = record_count WHERE id = ? AND state = 'importing'`).run(
      now,
      JSON.stringify(report),
      id,
    );
  })();
}

export function getDatasetRow(db: Db, id: string): DatasetSummary | null {
  const row = db.prepare(`SELECT * FROM datasets WHERE id = ?`).get(id) as DatasetRow | undefined;
  return row ? toSummary(row) : null;
}

/** A dataset that is ready, or a not_found error the user can act on. */
export function requireDataset(db: Db, id: unknown): DatasetSummary {
  if (typeof id !== 'string' || !/^\d+$/.test(id)) throw new DeepenError('bad_request', `A dataset id (a number) is required${id ? `, not "${String(id)}"` : ''}.`);
  const d = getDatasetRow(db, id);
  if (!d || d.state === 'deleting') throw new DeepenError('not_found', `No dataset with id ${id}. It may have been deleted; refresh the list.`);
  if (d.state === 'importing') throw new DeepenError('conflict', `The dataset "${d.name}" is still being imported. Wait for the import to finish.`);
  return d;
}

export function findDatasetByName(db: Db, name: string): DatasetSummary | null {
  const row = db.prepare(`SELECT * FROM datasets WHERE name = ? AND state != 'deleting'`).get(name.trim()) as DatasetRow | undefined;
  return row ? toSummary(row) : null;
}

export function listDatasets(db: Db): DatasetSummary[] {
  return (db.prepare(`SELECT * FROM datasets WHERE state = 'ready' ORDER BY created_at DESC, rowid DESC`).all() as DatasetRow[]).map(toSummary);
}

export function getDatasetDetail(db: Db, id: string): DatasetDetail {
  const summary = requireDataset(db, id);
  const row = db.prepare(`SELECT last_import FROM datasets WHERE id = ?`).get(id) as { last_import: string | null };
  // the engine, which runs the indexing jobs, fills in searchIndexJobId
  return { ...summary, lastImport: row.last_import ? (JSON.parse(row.last_import) as ImportReport) : null, tokenizers: listTokenizerCaches(db, id), searchIndexJobId: null };
}

export function listTokenizerCaches(db: Db, datasetId: string): TokenizerCache[] {
  return (
    db
      .prepare(
        `SELECT t.id AS tokenizerId, t.label, t.model_dir AS modelDir, count(c.record_id) AS counted
         FROM dataset_tokenizers t JOIN dataset_token_counts c ON c.tokenizer_id = t.id AND c.dataset_id = ?
         GROUP BY t.id ORDER BY t.created_at DESC`,
      )
      .all(datasetId) as TokenizerCache[]
  );
}

export function renameDataset(db: Db, id: string, name: string, now: number): DatasetSummary {
  const clean = checkDatasetName(name);
  requireDataset(db, id);
  const other = findDatasetByName(db, clean);
  if (other && other.id !== id) throw new DeepenError('conflict', `A dataset named "${clean}" already exists. Pick another name.`);
  db.prepare(`UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?`).run(clean, now, id);
  return getDatasetRow(db, id)!;
}

/**
 * Hides a dataset at once and frees its name; a job then removes its rows in
 * batches (see deleteRecordsBatch), so the user never waits on a large delete.
 */
export function markDatasetDeleting(db: Db, id: string, jobId: string | null): void {
  db.prepare(`UPDATE datasets SET state = 'deleting', name = ?, job_id = ? WHERE id = ?`).run(`\u0000deleting:${id}`, jobId, id);
}

/** Deletes up to `limit` records of a dataset in one short transaction; returns how many went. */
export function deleteRecordsBatch(db: Db, datasetId: string, limit: number): number {
  return db.prepare(`DELETE FROM dataset_records WHERE id IN (SELECT id FROM dataset_records WHERE dataset_id = ? LIMIT ?)`).run(datasetId, limit).changes;
}

/**
 * Empties a hidden dataset's length and hash tables in two range deletes, so
 * that deleting its records does not update them one record at a time.
 */
export function clearDatasetSideTables(db: Db, id: string): void {
  db.transaction(() => {
    db.prepare(`DELETE FROM dataset_lengths WHERE dataset_id = ?`).run(id);
    db.prepare(`DELETE FROM dataset_hashes WHERE dataset_id = ?`).run(id);
  })();
}

export function deleteDatasetRow(db: Db, id: string): void {
  db.prepare(`DELETE FROM datasets WHERE id = ?`).run(id);
}

/** Datasets left half-imported or half-deleted by a job that is no longer running. */
export function abandonedDatasets(db: Db): string[] {
  return (
    db
      .prepare(
        `SELECT d.id FROM datasets d LEFT JOIN jobs j ON j.id = d.job_id
         WHERE d.state != 'ready' AND (j.id IS NULL OR j.state NOT IN ('queued', 'running'))`,
      )
      .all() as { id: number }[]
  ).map((r) => String(r.id));
}

/** Recounts records, characters and splits from the dataset's length table. */
export function refreshDatasetCounts(db: Db, id: string): void {
  const rows = db
    .prepare(`SELECT split, sum(records) AS n, coalesce(sum(chars * records), 0) AS chars FROM dataset_lengths WHERE dataset_id = ? AND records > 0 GROUP BY split`)
    .all(id) as { split: 'train' | 'eval'; n: number; chars: number }[];
  const train = rows.find((r) => r.split === 'train');
  const evalRow = rows.find((r) => r.split === 'eval');
  const n = (train?.n ?? 0) + (evalRow?.n ?? 0);
  const chars = (train?.chars ?? 0) + (evalRow?.chars ?? 0);
  db.prepare(`UPDATE datasets SET record_count = ?, total_chars = ?, train_count = ?, eval_count = ?, updated_at = ? WHERE id = ?`).run(
    n,
    chars,
    train?.n ?? 0,
    evalRow?.n ?? 0,
    Date.now(),
    id,
  );
}

export function setSplitParams(db: Db, id: string, evalRatio: number, seed: number): void {
  db.prepare(`UPDATE datasets SET eval_ratio = ?, split_seed = ? WHERE id = ?`).run(evalRatio, seed, id);
}

export function isDatasetReady(db: Db, id: string): boolean {
  const row = db.prepare(`SELECT state FROM datasets WHERE id = ?`).get(id) as { state: DatasetState } | undefined;
  return row?.state === 'ready';
}
