// An import from start to end: read the source, map rows to records, drop or
// count duplicates, assign splits, write in batches with progress, and either
// commit (the dataset becomes visible) or leave the database as it was
// (abort, cancel, crash: the pending dataset's rows are removed).
import type { DatasetKind, FieldMapping, ImportParams, ImportReport } from '../../../shared/contract/datasets';
import { DeepenError } from '../../../shared/errors';
import { commitImport, setDatasetKind } from '../datasets';
import { deleteDatasetNow } from '../datasets-ops';
import { RecordWriter } from '../datasets-writer';
import type { Db } from '../db';
import { DEFAULT_MAX_RECORD_BYTES } from './line-reader';
import { describeMapping, detectMapping } from './mapping';
import { NearDuplicateIndex } from './minhash';
import { openSource, type OpenedSource } from './sources';
import { readInThread } from './reader-thread';
import { streamRecords, type StreamOut } from './record-stream';
import { mb, StopReading, type RowSink } from './source-types';

/** What the importer needs from a job: progress, log, cancellation. */
export interface ImportContext {
  progress(fraction: number, message?: string): void;
  log(text: string, level?: 'info' | 'warn' | 'error'): void;
  throwIfCancelled(): void;
}

export interface ImportJobInput extends ImportParams {
  datasetId: string;
}

/** Reads the first rows to settle the mapping when none was given. */
async function settleMapping(source: OpenedSource, p: ImportParams): Promise<{ kind: DatasetKind; mapping: FieldMapping | null }> {
  if (source.documents) {
    if (p.kind && p.kind !== 'text') {
      throw new DeepenError('bad_request', `${p.path} is read as plain text documents, which make a text dataset, not ${p.kind}. Import it as kind text, or use a JSON Lines file for ${p.kind} data.`);
    }
    return { kind: 'text', mapping: null };
  }
  if (p.mapping) {
    if (p.kind && p.kind !== p.mapping.kind) throw new DeepenError('bad_request', `The mapping is for ${p.mapping.kind} records but the kind asked for is ${p.kind}.`);
    return { kind: p.mapping.kind, mapping: p.mapping };
  }
  const rows: Record<string, unknown>[] = [];
  const sink: RowSink = {
    row: (r) => {
      rows.push(r);
      if (rows.length >= 50) throw new StopReading();
    },
    doc: () => undefined,
    problem: () => undefined,
    tick: (n) => {
      if (n > 64 << 20) throw new StopReading();
    },
  };
  try {
    await source.read(sink, null, 50);
  } catch (err) {
    if (!(err instanceof StopReading)) throw err;
  }
  if (!rows.length) {
    throw new DeepenError('bad_file', `No readable records were found at the start of ${p.path}. Preview the file to see why each line was rejected.`);
  }
  const found = detectMapping(rows, p.kind);
  if (!found) {
    const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))].join(', ');
    throw new DeepenError(
      'bad_request',
      `No ${p.kind ? `${p.kind} ` : ''}fields were recognized in ${p.path} (its fields: ${fields}). Map them by hand, e.g. --map text=FIELD or --map instruction=FIELD,output=FIELD.`,
    );
  }
  return found;
}

/** Sources from this size up are read in a thread of their own (a thread costs ~50 ms to start). */
export const READER_THREAD_MIN_BYTES = 8 << 20;

export interface ImportOptions {
  /** read in a thread of its own: default from READER_THREAD_MIN_BYTES (never with near-duplicate search, whose index lives on this connection) */
  readerThread?: boolean;
  /** (hash, id) pairs the writer keeps in memory at most (tests force SQLite's sorter with 0) */
  hashesInMemory?: number;
}

export async function runImport(db: Db, input: ImportJobInput, ctx: ImportContext, opts: ImportOptions = {}): Promise<ImportReport> {
  const started = Date.now();
  const maxRecordBytes = input.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const datasetId = input.datasetId;
  let near: NearDuplicateIndex | null = null;
  // Checkpoint the WAL every 64 MB instead of every 4 MB: each checkpoint syncs
  // the database file, and a large import would otherwise pay hundreds of them.
  const checkpointPages = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma('wal_autocheckpoint = 16384');
  try {
    const spec = { ...input, maxRecordBytes };
    const source = await openSource(spec);
    const { kind, mapping } = await settleMapping(source, input);
    setDatasetKind(db, datasetId, kind);
    ctx.log(`Importing ${source.path} as ${source.format}${mapping ? ` (${describeMapping(mapping)})` : ''} as ${kind} records.`);
    if (input.nearDedupe) near = new NearDuplicateIndex(db, typeof input.nearDedupe === 'object' ? input.nearDedupe.threshold : 0.8);

    const writer = new RecordWriter(db, datasetId, { hashesInMemory: opts.hashesInMemory });
    const options = { mapping, onError: input.onError ?? 'skip', dedupe: !!input.dedupe, evalRatio: input.evalRatio ?? 0, seed: input.seed ?? 0 };
    let lastTick = 0;
    const out: StreamOut = {
      batch: (b) => writer.write(b),
      tick: (bytes, t) => {
        ctx.throwIfCancelled();
        const now = Date.now();
        if (now - lastTick < 100) return;
        lastTick = now;
        // reading and writing the rows is ~90% of the work; the hash table and the commit take the rest
        ctx.progress((0.9 * bytes) / Math.max(1, source.bytes), `${t.records.toLocaleString('en-US')} records, ${mb(bytes)} of ${mb(source.bytes)}`);
      },
      log: (text, level) => ctx.log(text, level),
    };
    const threaded = !near && (opts.readerThread ?? source.bytes >= READER_THREAD_MIN_BYTES);
    const tally = threaded ? await readInThread({ spec, options }, out) : await streamRecords(source, { ...options, near }, out);
    ctx.throwIfCancelled();
    writer.finish((f) => {
      ctx.throwIfCancelled();
      ctx.progress(0.9 + 0.08 * f, `Listing the duplicates of ${tally.records.toLocaleString('en-US')} records`);
    });
    ctx.throwIfCancelled();
    if (!tally.records) {
      const first = tally.skippedLines[0];
      throw new DeepenError(
        'bad_file',
        `${input.path} gave no records: ${tally.skipped} line${tally.skipped === 1 ? ' was' : 's were'} skipped${tally.empties ? ` (${tally.empties} empty)` : ''}${first ? `; the first, ${first.file}:${first.line}: ${first.reason}` : ''}. Nothing was imported.`,
      );
    }
    const report: ImportReport = {
      datasetId,
      name: input.name,
      format: source.format,
      kind,
      mapping,
      records: tally.records,
      skipped: tally.skipped,
      skippedLines: tally.skippedLines,
      duplicates: tally.duplicates,
      duplicatesDropped: !!input.dedupe,
      nearDuplicates: tally.nearDuplicates,
      bytes: source.bytes,
      ms: Date.now() - started,
    };
    commitImport(db, datasetId, report, Date.now(), writer.lengths);
    ctx.progress(1, `Imported ${report.records.toLocaleString('en-US')} records`);
    ctx.log(
      `Imported ${report.records} records; skipped ${report.skipped}; ${report.duplicates} exact duplicates${input.dedupe ? ' dropped' : ' kept'}` +
        (near ? `; ${report.nearDuplicates} near-duplicates${input.dedupe ? ' dropped' : ' kept'}` : '') +
        ` (${(report.ms / 1000).toFixed(1)} s${threaded ? ', read in a thread of its own' : ''}). Search indexing follows.`,
    );
    return report;
  } catch (err) {
    await discardDataset(db, datasetId, ctx);
    throw err;
  } finally {
    near?.close();
    db.pragma(`wal_autocheckpoint = ${checkpointPages | 0}`);
  }
}

/** Removes a dataset's rows in short batches, then the dataset: the database is as it was before the import. */
async function discardDataset(db: Db, datasetId: string, ctx?: Pick<ImportContext, 'log'>): Promise<void> {
  // not cancellable: the import may be failing because it was cancelled
  const { deleted } = await deleteDatasetNow(db, datasetId, { progress: () => undefined, log: () => undefined, throwIfCancelled: () => undefined });
  if (deleted) ctx?.log(`Removed the ${deleted} records imported so far; the database is as it was.`, 'warn');
}
