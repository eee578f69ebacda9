// The long dataset operations that run as jobs: delete, delete by filter,
// re-split, export to JSON Lines. Each works in short batches (so the engine
// never waits on the database for long), reports progress and stops cleanly
// on cancel.
import fs from 'node:fs';
import path from 'node:path';
import type { RecordFilter } from '../../shared/contract/datasets';
import { DeepenError } from '../../shared/errors';
import { fromStored, splitFor } from './datasets-content';
import {
  abandonedDatasets,
  clearDatasetSideTables,
  deleteDatasetRow,
  deleteRecordsBatch,
  getDatasetRow,
  markDatasetDeleting,
  refreshDatasetCounts,
  requireDataset,
  setSplitParams,
} from './datasets';
import { countRecords, deleteMatchingBatch, filterIsEmpty, readRecordsAfter } from './datasets-records';
import type { Db } from './db';

export interface OpContext {
  progress(fraction: number, message?: string): void;
  log(text: string, level?: 'info' | 'warn' | 'error'): void;
  throwIfCancelled(): void;
}

const BATCH = 5000;
const tick = () => new Promise((r) => setImmediate(r));

/** Removes a dataset's records in batches, then the dataset. Safe to run again after a cancel or crash. */
export async function deleteDatasetNow(db: Db, datasetId: string, ctx: OpContext): Promise<{ deleted: number }> {
  const d = getDatasetRow(db, datasetId);
  if (!d) return { deleted: 0 };
  if (d.state !== 'deleting') markDatasetDeleting(db, datasetId, null);
  clearDatasetSideTables(db, datasetId);
  const total = Math.max(1, d.records);
  let deleted = 0;
  for (let n; (n = deleteRecordsBatch(db, datasetId, BATCH)) > 0; ) {
    deleted += n;
    ctx.progress(Math.min(0.99, deleted / total), `Deleted ${deleted.toLocaleString('en-US')} records`);
    ctx.throwIfCancelled();
    await tick();
  }
  deleteDatasetRow(db, datasetId);
  return { deleted };
}

/** Finishes deletes and imports that a crash or a hard stop left behind. */
export async function purgeAbandoned(db: Db, ctx: OpContext, except?: string): Promise<void> {
  for (const id of abandonedDatasets(db)) {
    if (id === except) continue;
    ctx.log(`Removing the leftovers of an interrupted import or delete (dataset ${id}).`);
    await deleteDatasetNow(db, id, { ...ctx, progress: () => undefined });
  }
}

export async function deleteWhere(db: Db, datasetId: string, filter: RecordFilter, ctx: OpContext): Promise<{ deleted: number }> {
  requireDataset(db, datasetId);
  if (filterIsEmpty(filter)) throw new DeepenError('bad_request', 'Deleting by filter needs at least one criterion (search, split or length). To remove every record, delete the dataset.');
  const total = Math.max(1, countRecords(db, datasetId, filter));
  let deleted = 0;
  try {
    for (let n; (n = deleteMatchingBatch(db, datasetId, filter, BATCH)) > 0; ) {
      deleted += n;
      ctx.progress(Math.min(0.99, deleted / total), `Deleted ${deleted.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} records`);
      ctx.throwIfCancelled();
      await tick();
    }
  } finally {
    // counts stay right even when cancelled part-way
    refreshDatasetCounts(db, datasetId);
  }
  return { deleted };
}

/** Reassigns train/eval from each record's hash and the seed; only records whose split changes are written. */
export async function resplit(db: Db, datasetId: string, evalRatio: number, seed: number, ctx: OpContext): Promise<{ train: number; eval: number }> {
  const d = requireDataset(db, datasetId);
  if (!(evalRatio >= 0 && evalRatio <= 1)) throw new DeepenError('bad_request', `The eval ratio must be between 0 and 1 (got ${evalRatio}).`);
  if (!Number.isInteger(seed)) throw new DeepenError('bad_request', `The seed must be a whole number (got ${seed}).`);
  const read = db.prepare(`SELECT id, hash, split FROM dataset_records WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT ?`);
  const write = db.prepare(`UPDATE dataset_records SET split = ? WHERE id = ?`);
  let after = 0;
  let done = 0;
  try {
    for (;;) {
      const rows = read.all(datasetId, after, BATCH) as { id: number; hash: Buffer; split: string }[];
      if (!rows.length) break;
      db.transaction(() => {
        for (const r of rows) {
          const s = splitFor(r.hash, seed, evalRatio);
          if (s !== r.split) write.run(s, r.id);
        }
      })();
      after = rows[rows.length - 1].id;
      done += rows.length;
      ctx.progress(Math.min(0.99, done / Math.max(1, d.records)), `Split ${done.toLocaleString('en-US')} records`);
      ctx.throwIfCancelled();
      await tick();
    }
    setSplitParams(db, datasetId, evalRatio, seed);
  } finally {
    refreshDatasetCounts(db, datasetId);
  }
  const after2 = getDatasetRow(db, datasetId)!;
  return { train: after2.trainRecords, eval: after2.evalRecords };
}

/** One JSON object per line in the shape the importer recognizes, so an export imports back unchanged. */
export function exportLine(kind: 'text' | 'instruction' | 'chat', text: string, data: string | null): string {
  const c = fromStored(kind, text, data);
  if (c.kind === 'text') return JSON.stringify({ text: c.text });
  if (c.kind === 'instruction') {
    const { kind: _k, ...rest } = c;
    return JSON.stringify(rest);
  }
  return JSON.stringify({ messages: c.messages });
}

/** Writes matching records to a temporary file beside the target, then renames it: the target is never half-written. */
export async function exportJsonl(db: Db, datasetId: string, target: string, filter: RecordFilter | undefined, ctx: OpContext): Promise<{ path: string; records: number; bytes: number }> {
  const d = requireDataset(db, datasetId);
  if (typeof target !== 'string' || !target.trim()) throw new DeepenError('bad_request', 'Give the path of the .jsonl file to write.');
  const file = path.resolve(target);
  if (!fs.existsSync(path.dirname(file))) throw new DeepenError('not_found', `The folder ${path.dirname(file)} does not exist. Create it or pick another place.`);
  const total = Math.max(1, filter && !filterIsEmpty(filter) ? countRecords(db, datasetId, filter) : d.records);
  const tmp = `${file}.partial-${process.pid}-${Date.now()}`;
  const out = fs.createWriteStream(tmp);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  let records = 0;
  let bytes = 0;
  try {
    let after = 0;
    for (;;) {
      const rows = readRecordsAfter(db, datasetId, filter, after, 2000);
      if (!rows.length) break;
      const text = rows.map((r) => exportLine(d.kind, r.text, r.data)).join('\n') + '\n';
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
      after = rows[rows.length - 1].id;
      records += rows.length;
      ctx.progress(Math.min(0.99, records / total), `Exported ${records.toLocaleString('en-US')} records`);
      ctx.throwIfCancelled();
    }
    await Promise.race([new Promise<void>((r) => out.end(() => r())), failed]);
    fs.renameSync(tmp, file);
  } catch (err) {
    out.destroy();
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  ctx.log(`Wrote ${records} records (${bytes} bytes) to ${file}.`);
  return { path: file, records, bytes };
}
