// An import from start to end: read the source, map rows to records, drop or
// count duplicates, assign splits, write in batches with progress, and either
// commit (the dataset becomes visible) or leave the database as it was
// (abort, cancel, crash: the pending dataset's rows are removed).
import type { DatasetKind, FieldMapping, ImportParams, ImportReport, SkippedLine } from '../../../shared/contract/datasets';
import { DeepenError } from '../../../shared/errors';
import { splitFor, toStored } from '../datasets-content';
import { commitImport, deleteDatasetRow, deleteRecordsBatch, getDatasetRow, setDatasetKind } from '../datasets';
import { RecordWriter } from '../datasets-writer';
import type { Db } from '../db';
import { DEFAULT_MAX_RECORD_BYTES } from './line-reader';
import { applyMapping, describeMapping, detectMapping, isEmptyContent, MappingError } from './mapping';
import { NearDuplicateIndex } from './minhash';
import { openSource, type OpenedSource } from './sources';
import { mb, StopReading, type RowSink } from './source-types';

export const MAX_REPORTED_SKIPS = 1000;

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

export async function runImport(db: Db, input: ImportJobInput, ctx: ImportContext): Promise<ImportReport> {
  const started = Date.now();
  const onError = input.onError ?? 'skip';
  const maxRecordBytes = input.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const evalRatio = input.evalRatio ?? 0;
  const seed = input.seed ?? 0;
  const datasetId = input.datasetId;
  let near: NearDuplicateIndex | null = null;
  // Checkpoint the WAL every 64 MB instead of every 4 MB: each checkpoint syncs
  // the database file, and a large import would otherwise pay hundreds of them.
  const checkpointPages = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma('wal_autocheckpoint = 16384');
  try {
    const source = await openSource({ ...input, maxRecordBytes });
    const { kind, mapping } = await settleMapping(source, input);
    setDatasetKind(db, datasetId, kind);
    ctx.log(`Importing ${source.path} as ${source.format}${mapping ? ` (${describeMapping(mapping)})` : ''} as ${kind} records.`);
    if (input.nearDedupe) near = new NearDuplicateIndex(db, typeof input.nearDedupe === 'object' ? input.nearDedupe.threshold : 0.8);

    const writer = new RecordWriter(db, datasetId);
    const report: ImportReport = {
      datasetId,
      name: input.name,
      format: source.format,
      kind,
      mapping,
      records: 0,
      skipped: 0,
      skippedLines: [],
      duplicates: 0,
      duplicatesDropped: !!input.dedupe,
      nearDuplicates: 0,
      bytes: source.bytes,
      ms: 0,
    };
    let empties = 0;
    const skip = (file: string, line: number, reason: string, fatal = true) => {
      if (onError === 'abort' && fatal) {
        throw new DeepenError('bad_file', `${file}:${line}: ${reason}. The import stopped there and nothing was imported. Fix the line, or import with "skip" to leave such lines out.`, {
          file,
          line,
          reason,
        });
      }
      report.skipped++;
      if (report.skippedLines.length < MAX_REPORTED_SKIPS) report.skippedLines.push({ file, line, reason } satisfies SkippedLine);
      if (report.skipped <= 20) ctx.log(`Skipped ${file}:${line}: ${reason}`, 'warn');
    };
    const add = (content: ReturnType<typeof applyMapping>, line: number, file: string) => {
      if (isEmptyContent(content)) {
        empties++;
        return skip(file, line, 'the record is empty', false);
      }
      const stored = toStored(content);
      if (writer.hasHash(stored.hash)) {
        report.duplicates++;
        if (input.dedupe) return;
      } else if (near?.seen(stored.text)) {
        report.nearDuplicates++;
        if (input.dedupe) return;
      }
      writer.add({ ...stored, split: splitFor(stored.hash, seed, evalRatio), line, origin: source.format === 'folder' ? file : null });
      report.records++;
    };
    let lastTick = 0;
    const sink: RowSink = {
      row: (value, line, file) => {
        try {
          add(applyMapping(value, mapping!), line, file);
        } catch (err) {
          if (err instanceof MappingError) skip(file, line, err.message);
          else throw err;
        }
      },
      doc: (text, line, file) => add({ kind: 'text', text }, line, file),
      problem: (line, reason, file) => skip(file, line, reason),
      tick: (bytes) => {
        ctx.throwIfCancelled();
        const now = Date.now();
        if (now - lastTick < 100) return;
        lastTick = now;
        // reading is ~90% of the work; indexing the tail and committing take the rest
        ctx.progress((0.9 * bytes) / Math.max(1, source.bytes), `${report.records.toLocaleString('en-US')} records, ${mb(bytes)} of ${mb(source.bytes)}`);
      },
    };
    await source.read(sink, mapping);
    ctx.throwIfCancelled();
    ctx.progress(0.92, `Indexing ${report.records.toLocaleString('en-US')} records for search`);
    writer.finish();
    ctx.throwIfCancelled();
    if (!report.records) {
      throw new DeepenError(
        'bad_file',
        `${input.path} gave no records: ${report.skipped} line${report.skipped === 1 ? ' was' : 's were'} skipped${empties ? ` (${empties} empty)` : ''}${report.skippedLines[0] ? `; the first, ${report.skippedLines[0].file}:${report.skippedLines[0].line}: ${report.skippedLines[0].reason}` : ''}. Nothing was imported.`,
      );
    }
    report.ms = Date.now() - started;
    commitImport(db, datasetId, report, Date.now());
    ctx.progress(1, `Imported ${report.records.toLocaleString('en-US')} records`);
    ctx.log(
      `Imported ${report.records} records; skipped ${report.skipped}; ${report.duplicates} exact duplicates${input.dedupe ? ' dropped' : ' kept'}` +
        (near ? `; ${report.nearDuplicates} near-duplicates${input.dedupe ? ' dropped' : ' kept'}` : '') +
        ` (${(report.ms / 1000).toFixed(1)} s).`,
    );
    return report;
  } catch (err) {
    discardDataset(db, datasetId, ctx);
    throw err;
  } finally {
    near?.close();
    db.pragma(`wal_autocheckpoint = ${checkpointPages | 0}`);
  }
}

/** Removes a dataset's rows in short batches, then the dataset: the database is as it was before the import. */
export function discardDataset(db: Db, datasetId: string, ctx?: Pick<ImportContext, 'log'>): void {
  const d = getDatasetRow(db, datasetId);
  if (!d) return;
  let removed = 0;
  for (let n; (n = deleteRecordsBatch(db, datasetId, 5000)) > 0; ) removed += n;
  deleteDatasetRow(db, datasetId);
  if (removed) ctx?.log(`Removed the ${removed} records imported so far; the database is as it was.`, 'warn');
}
