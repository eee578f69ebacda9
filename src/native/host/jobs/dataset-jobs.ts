// Job runners of the datasets domain. Each runs in a worker thread with its
// own database connection (WAL lets the engine keep reading and writing
// meanwhile) and hands the work to src/native/data.
import type { RecordFilter } from '../../../shared/contract/datasets';
import { openDatabase, type Db } from '../../data/db';
import { fromStored } from '../../data/datasets-content';
import { deleteDatasetNow, deleteWhere, exportJsonl, purgeAbandoned, resplit } from '../../data/datasets-ops';
import { countRecordsWithoutTokens, recordsWithoutTokenCount, registerTokenizer, saveTokenCounts } from '../../data/datasets-stats';
import { requireDataset } from '../../data/datasets';
import { indexForSearch } from '../../data/datasets-search-index';
import { runImport, type ImportJobInput } from '../../data/import/importer';
import { renderRecord, tokenizeSegments } from '../../data/record-render';
import { databaseFileIn } from '../paths';
import type { JobContext } from './job-types';

async function withDb<T>(ctx: JobContext, f: (db: Db) => Promise<T>): Promise<T> {
  const db = openDatabase(databaseFileIn(ctx.dataDir));
  // bulk work: a larger page cache keeps the indexes' hot pages in memory
  db.pragma('cache_size = -65536');
  try {
    return await f(db);
  } finally {
    db.close();
  }
}

export function runDatasetImportJob(input: ImportJobInput, ctx: JobContext) {
  return withDb(ctx, async (db) => {
    await purgeAbandoned(db, ctx, input.datasetId);
    return runImport(db, input, ctx);
  });
}

/** Builds the search index of an imported dataset (started by the engine after each import, and at start for any left unfinished). */
export function runDatasetIndexJob(input: { datasetId: string }, ctx: JobContext) {
  return withDb(ctx, async (db) => indexForSearch(db, input.datasetId, ctx));
}

export function runDatasetDeleteJob(input: { datasetId: string }, ctx: JobContext) {
  return withDb(ctx, async (db) => {
    const result = await deleteDatasetNow(db, input.datasetId, ctx);
    await purgeAbandoned(db, ctx);
    return result;
  });
}

export function runDatasetDeleteWhereJob(input: { datasetId: string; filter: RecordFilter }, ctx: JobContext) {
  return withDb(ctx, (db) => deleteWhere(db, input.datasetId, input.filter, ctx));
}

export function runDatasetSplitJob(input: { datasetId: string; evalRatio: number; seed: number }, ctx: JobContext) {
  return withDb(ctx, (db) => resplit(db, input.datasetId, input.evalRatio, input.seed, ctx));
}

export function runDatasetExportJob(input: { datasetId: string; path: string; filter?: RecordFilter }, ctx: JobContext) {
  return withDb(ctx, (db) => exportJsonl(db, input.datasetId, input.path, input.filter, ctx));
}

/** Counts tokens of every record not yet counted for this tokenizer (a re-run continues where the last stopped). */
export function runDatasetTokensJob(input: { datasetId: string; modelDir: string }, ctx: JobContext) {
  return withDb(ctx, async (db) => {
    const d = requireDataset(db, input.datasetId);
    ctx.progress(0, 'Loading the tokenizer');
    const { loadDatasetTokenizer } = await import('../dataset-tokenizer');
    const tok = await loadDatasetTokenizer(input.modelDir);
    registerTokenizer(db, { id: tok.tokenizerId, label: tok.label, modelDir: tok.modelDir });
    const todo = countRecordsWithoutTokens(db, d.id, tok.tokenizerId);
    let done = 0;
    let after = 0;
    for (;;) {
      const rows = recordsWithoutTokenCount(db, d.id, tok.tokenizerId, after, 500);
      if (!rows.length) break;
      const counts = rows.map((r) => ({
        id: r.id,
        tokens: tokenizeSegments(renderRecord(fromStored(d.kind, r.text, r.data), tok.template), tok.encoder, tok.eosId).ids.length,
      }));
      saveTokenCounts(db, d.id, tok.tokenizerId, counts);
      after = rows[rows.length - 1].id;
      done += rows.length;
      ctx.progress(done / Math.max(1, todo), `Counted tokens of ${done.toLocaleString('en-US')} of ${todo.toLocaleString('en-US')} records`);
      ctx.throwIfCancelled();
    }
    return { tokenizerId: tok.tokenizerId, counted: done };
  });
}
