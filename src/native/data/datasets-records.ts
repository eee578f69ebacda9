// SQL for dataset records: paging (keyset or offset) with full-text search
// and filters, single-record edits, filtered deletes and reads for export and
// training. Bulk inserts live in ./datasets-writer.
import type { DatasetKind, DatasetSplit, RecordContent, RecordDetail, RecordFilter, RecordPage, RecordPageParams, RecordRow } from '../../shared/contract/datasets';
import { DeepenError } from '../../shared/errors';
import { fromStored, toStored } from './datasets-content';
import type { Db } from './db';

const PREVIEW_CHARS = 240;
export const MAX_PAGE = 1000;

/**
 * Turns what a user types into an FTS5 query that cannot be a syntax error:
 * each word or "quoted phrase" becomes a quoted phrase (all must occur), a
 * trailing * keeps prefix search. Chunks without a letter or digit are
 * dropped (the tokenizer ignores them anyway). Returns null when nothing is
 * left to search for.
 */
export function toFtsQuery(input: string): string | null {
  const parts: string[] = [];
  for (const m of input.matchAll(/"([^"]*)"?|(\S+)/g)) {
    let chunk = m[1] ?? m[2] ?? '';
    const prefix = m[2] !== undefined && chunk.endsWith('*');
    if (prefix) chunk = chunk.replace(/\*+$/, '');
    if (!/[\p{L}\p{N}]/u.test(chunk)) continue;
    parts.push(`"${chunk.replace(/"/g, '""')}"${prefix ? '*' : ''}`);
  }
  return parts.length ? parts.join(' ') : null;
}

interface Where {
  sql: string;
  params: unknown[];
  /** the filter has a search query: rows come from the FTS table joined to records */
  fts: boolean;
  /** a search with no searchable word: matches nothing */
  empty: boolean;
}

/** The filter as SQL over records aliased `r` (or over dataset_lengths, whose columns dataset_id, split and chars have the same names, with `table: 'lengths'`). */
function buildWhere(datasetId: string, filter: RecordFilter | undefined, table: 'records' | 'lengths' = 'records'): Where {
  const r = table === 'records' ? 'r.' : '';
  const clauses = [`${r}dataset_id = ?`];
  const params: unknown[] = [datasetId];
  let fts = false;
  let empty = false;
  if (filter?.query && filter.query.trim()) {
    const q = toFtsQuery(filter.query);
    if (q === null) empty = true;
    else {
      fts = true;
      clauses.unshift('f.dataset_records_fts MATCH ?');
      params.unshift(q);
    }
  }
  if (filter?.split) {
    if (filter.split !== 'train' && filter.split !== 'eval') throw new DeepenError('bad_request', `Unknown split "${filter.split}"; use train or eval.`);
    clauses.push(`${r}split = ?`);
    params.push(filter.split);
  }
  if (filter?.minChars !== undefined && filter.minChars !== null) {
    clauses.push(`${r}chars >= ?`);
    params.push(Math.max(0, Math.floor(Number(filter.minChars) || 0)));
  }
  if (filter?.maxChars !== undefined && filter.maxChars !== null) {
    clauses.push(`${r}chars <= ?`);
    params.push(Math.max(0, Math.floor(Number(filter.maxChars) || 0)));
  }
  return { sql: clauses.join(' AND '), params, fts, empty };
}

const fromClause = (w: Where) => (w.fts ? 'dataset_records_fts f JOIN dataset_records r ON r.id = f.rowid' : 'dataset_records r');
// For searches the FTS table yields rowids in order; ordering by its rowid lets SQLite stop after one page.
const idColumn = (w: Where) => (w.fts ? 'f.rowid' : 'r.id');

export function filterIsEmpty(filter: RecordFilter | undefined): boolean {
  return !(filter?.query?.trim() || filter?.split || filter?.minChars !== undefined || filter?.maxChars !== undefined);
}

/** Wraps SQLite's FTS errors (a query too complex, a malformed MATCH) in words a user can act on. */
function run<T>(f: () => T, query: string | undefined): T {
  try {
    return f();
  } catch (err) {
    if (query && /fts5|MATCH/i.test((err as Error).message)) {
      throw new DeepenError('bad_request', `The search "${query}" could not be run: ${(err as Error).message}. Try plain words.`);
    }
    throw err;
  }
}

export function pageRecords(db: Db, p: RecordPageParams): RecordPage {
  const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(p.limit ?? 100)));
  const w = buildWhere(p.datasetId, p.filter);
  if (w.empty) return { rows: [], hasMore: false };
  const id = idColumn(w);
  const cols = `r.id AS id, r.split AS split, r.chars AS chars, substr(r.text, 1, ${PREVIEW_CHARS}) AS preview, r.line AS line, r.origin AS origin`;
  let sql: string;
  const params = [...w.params];
  let reverse = false;
  if (p.after !== undefined && p.after !== null) {
    sql = `SELECT ${cols} FROM ${fromClause(w)} WHERE ${w.sql} AND ${id} > ? ORDER BY ${id} LIMIT ?`;
    params.push(p.after, limit + 1);
  } else if (p.before !== undefined && p.before !== null) {
    sql = `SELECT ${cols} FROM ${fromClause(w)} WHERE ${w.sql} AND ${id} < ? ORDER BY ${id} DESC LIMIT ?`;
    params.push(p.before, limit + 1);
    reverse = true;
  } else {
    sql = `SELECT ${cols} FROM ${fromClause(w)} WHERE ${w.sql} ORDER BY ${id} LIMIT ? OFFSET ?`;
    params.push(limit + 1, Math.max(0, Math.floor(p.offset ?? 0)));
  }
  const rows = run(() => db.prepare(sql).all(...params) as RecordRow[], p.filter?.query);
  const hasMore = rows.length > limit;
  if (hasMore) rows.length = limit;
  if (reverse) rows.reverse();
  return { rows, hasMore };
}

export function countRecords(db: Db, datasetId: string, filter: RecordFilter | undefined, limit?: number): number {
  const w = buildWhere(datasetId, filter);
  if (w.empty) return 0;
  if (!w.fts) {
    // split and length alone: sum the dataset's length table instead of reading records
    const lw = buildWhere(datasetId, filter, 'lengths');
    const n = (db.prepare(`SELECT coalesce(sum(records), 0) FROM dataset_lengths WHERE ${lw.sql}`).pluck().get(...lw.params) as number) ?? 0;
    return limit === undefined ? n : Math.min(n, Math.max(0, Math.floor(limit)));
  }
  if (limit !== undefined) {
    // the engine answers one request at a time: a bounded count keeps it responsive
    const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM ${fromClause(w)} WHERE ${w.sql} LIMIT ?)`;
    return run(() => (db.prepare(sql).get(...w.params, Math.max(0, Math.floor(limit))) as { n: number }).n, filter?.query);
  }
  return run(() => (db.prepare(`SELECT count(*) AS n FROM ${fromClause(w)} WHERE ${w.sql}`).get(...w.params) as { n: number }).n, filter?.query);
}

interface FullRow {
  id: number;
  dataset_id: number;
  kind: DatasetKind;
  text: string;
  data: string | null;
  split: DatasetSplit;
  chars: number;
  line: number | null;
  origin: string | null;
}

const toDetail = (r: FullRow): RecordDetail => ({
  id: r.id,
  datasetId: String(r.dataset_id),
  split: r.split,
  chars: r.chars,
  preview: r.text.slice(0, PREVIEW_CHARS),
  line: r.line,
  origin: r.origin,
  text: r.text,
  content: fromStored(r.kind, r.text, r.data),
});

export function getRecord(db: Db, id: number): RecordDetail {
  const row = db
    .prepare(
      `SELECT r.*, d.kind AS kind FROM dataset_records r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ? AND d.state = 'ready'`,
    )
    .get(id) as FullRow | undefined;
  if (!row) throw new DeepenError('not_found', `No record with id ${id}. It may have been deleted; refresh the table.`);
  return toDetail(row);
}

/** Edits a record's content and/or split, keeping the dataset's counts right. Its split stays unless given. */
export function updateRecord(db: Db, id: number, patch: { content?: RecordContent; split?: DatasetSplit }): RecordDetail {
  return db.transaction(() => {
    const before = getRecord(db, id);
    if (patch.content) {
      const s = toStored(patch.content);
      db.prepare(`UPDATE dataset_records SET text = ?, data = ?, hash = ?, chars = ? WHERE id = ?`).run(s.text, s.data, s.hash, s.chars, id);
      db.prepare(`UPDATE datasets SET total_chars = total_chars + ?, updated_at = ? WHERE id = ?`).run(s.chars - before.chars, Date.now(), before.datasetId);
    }
    if (patch.split && patch.split !== before.split) {
      if (patch.split !== 'train' && patch.split !== 'eval') throw new DeepenError('bad_request', `Unknown split "${patch.split}"; use train or eval.`);
      db.prepare(`UPDATE dataset_records SET split = ? WHERE id = ?`).run(patch.split, id);
      const d = patch.split === 'eval' ? 1 : -1;
      db.prepare(`UPDATE datasets SET eval_count = eval_count + ?, train_count = train_count - ?, updated_at = ? WHERE id = ?`).run(d, d, Date.now(), before.datasetId);
    }
    return getRecord(db, id);
  })();
}

export function deleteRecord(db: Db, id: number): string {
  return db.transaction(() => {
    const before = getRecord(db, id);
    db.prepare(`DELETE FROM dataset_records WHERE id = ?`).run(id);
    db.prepare(
      `UPDATE datasets SET record_count = record_count - 1, total_chars = total_chars - ?, train_count = train_count - ?, eval_count = eval_count - ?, updated_at = ? WHERE id = ?`,
    ).run(before.chars, before.split === 'train' ? 1 : 0, before.split === 'eval' ? 1 : 0, Date.now(), before.datasetId);
    return before.datasetId;
  })();
}

/** Deletes up to `limit` records matching a filter in one short transaction; returns how many went. */
export function deleteMatchingBatch(db: Db, datasetId: string, filter: RecordFilter, limit: number): number {
  const w = buildWhere(datasetId, filter);
  if (w.empty) return 0;
  return run(
    () => db.prepare(`DELETE FROM dataset_records WHERE id IN (SELECT r.id FROM ${fromClause(w)} WHERE ${w.sql} LIMIT ?)`).run(...w.params, limit).changes,
    filter.query,
  );
}

export interface ExportRow {
  id: number;
  text: string;
  data: string | null;
  split: DatasetSplit;
}

/** Reads matching records in id order, one page at a time (keyset), for export. */
export function readRecordsAfter(db: Db, datasetId: string, filter: RecordFilter | undefined, afterId: number, limit: number): ExportRow[] {
  const w = buildWhere(datasetId, filter);
  if (w.empty) return [];
  const id = idColumn(w);
  return run(
    () =>
      db
        .prepare(`SELECT r.id AS id, r.text AS text, r.data AS data, r.split AS split FROM ${fromClause(w)} WHERE ${w.sql} AND ${id} > ? ORDER BY ${id} LIMIT ?`)
        .all(...w.params, afterId, limit) as ExportRow[],
    filter?.query,
  );
}

/** The ids of a dataset's split in id order (8 bytes each: a million records is 8 MB), for shuffling. */
export function recordIds(db: Db, datasetId: string, split: DatasetSplit | undefined): Float64Array {
  const stmt = split
    ? db.prepare(`SELECT id FROM dataset_records WHERE dataset_id = ? AND split = ? ORDER BY id`).pluck().bind(datasetId, split)
    : db.prepare(`SELECT id FROM dataset_records WHERE dataset_id = ? ORDER BY id`).pluck().bind(datasetId);
  const out: number[] = [];
  for (const id of stmt.iterate() as Iterable<number>) out.push(id);
  return Float64Array.from(out);
}

/** Records by id (for training reads); missing ids are simply absent from the result. */
export function readRecordsByIds(db: Db, ids: ArrayLike<number>): Map<number, { text: string; data: string | null }> {
  const out = new Map<number, { text: string; data: string | null }>();
  const CHUNK = 500;
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = Array.from({ length: Math.min(CHUNK, ids.length - i) }, (_, k) => ids[i + k]);
    const rows = db.prepare(`SELECT id, text, data FROM dataset_records WHERE id IN (${part.map(() => '?').join(',')})`).all(...part) as {
      id: number;
      text: string;
      data: string | null;
    }[];
    for (const r of rows) out.set(r.id, { text: r.text, data: r.data });
  }
  return out;
}
