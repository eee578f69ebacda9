// Shared by the dataset tests: a fresh database in a temp folder, a job-like
// context that records progress and logs, and small fixture files written
// into the temp folder by the tests themselves.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDatabase, type Db } from '../../../src/native/data/db';
import { createPendingDataset } from '../../../src/native/data/datasets';
import { runImport, type ImportContext, type ImportOptions } from '../../../src/native/data/import/importer';
import { indexForSearch } from '../../../src/native/data/datasets-search-index';
import type { ImportParams, ImportReport } from '../../../src/shared/contract/datasets';
import { DeepenError } from '../../../src/shared/errors';

export interface TestWorld {
  dir: string;
  db: Db;
  file(name: string, content: string | Buffer): string;
  cleanup(): void;
}

export function world(prefix = 'deepen-data-'): TestWorld {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const db = openDatabase(path.join(dir, 'deepen.db'));
  return {
    dir,
    db,
    file(name, content) {
      const p = path.join(dir, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      return p;
    },
    cleanup() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function testContext(cancelAfterTicks = Infinity) {
  const progress: [number, string | undefined][] = [];
  const logs: string[] = [];
  let ticks = 0;
  const ctx: ImportContext = {
    progress: (f, m) => progress.push([f, m]),
    log: (t) => logs.push(t),
    throwIfCancelled() {
      if (++ticks > cancelAfterTicks) throw new DeepenError('cancelled', 'cancelled');
    },
  };
  return { ctx, progress, logs };
}

/**
 * Imports like the engine does: a pending dataset, runImport, then (unless
 * `search: false`) the search indexing that the engine runs next as its own job.
 */
export async function importFile(
  w: TestWorld,
  params: Partial<ImportParams> & { path: string },
  cancelAfterTicks = Infinity,
  opts: { search?: boolean } & ImportOptions = {},
): Promise<ImportReport> {
  const name = params.name ?? `ds-${randomUUID().slice(0, 8)}`;
  const datasetId = createPendingDataset(w.db, { name, kind: params.kind ?? 'text', source: params.path, jobId: null, evalRatio: params.evalRatio ?? 0, seed: params.seed ?? 0, now: Date.now() });
  const { ctx } = testContext(cancelAfterTicks);
  const report = await runImport(w.db, { ...params, name, datasetId }, ctx, opts);
  if (opts.search !== false) indexForSearch(w.db, datasetId, testContext().ctx);
  return report;
}

/** Everything in the length and hash tables of a dataset, and what the records say they should hold. */
export function sideTables(db: Db, datasetId: string) {
  return {
    lengths: db.prepare(`SELECT chars, split, records FROM dataset_lengths WHERE dataset_id = ? AND records > 0 ORDER BY chars, split`).all(datasetId),
    expectedLengths: db.prepare(`SELECT chars, split, count(*) AS records FROM dataset_records WHERE dataset_id = ? GROUP BY chars, split ORDER BY chars, split`).all(datasetId),
    hashes: db.prepare(`SELECT hex(hash) AS h, record_id AS id FROM dataset_hashes WHERE dataset_id = ? ORDER BY hash, record_id`).all(datasetId),
    expectedHashes: db.prepare(`SELECT hex(hash) AS h, id FROM dataset_records WHERE dataset_id = ? ORDER BY hash, id`).all(datasetId),
  };
}

/** Everything in the dataset tables, to prove an aborted import changed nothing. */
export function snapshot(db: Db) {
  return {
    datasets: db.prepare(`SELECT id, name, state, record_count FROM datasets ORDER BY id`).all(),
    records: db.prepare(`SELECT id, dataset_id, text FROM dataset_records ORDER BY id`).all(),
    fts: db.prepare(`SELECT count(*) AS n FROM dataset_records_fts`).get(),
    lengths: db.prepare(`SELECT * FROM dataset_lengths WHERE records > 0 ORDER BY dataset_id, chars, split`).all(),
    hashes: db.prepare(`SELECT count(*) AS n FROM dataset_hashes`).get(),
  };
}
