// From a source to batches of records ready to write: map each row, skip
// empty and malformed ones (or stop, with `onError: 'abort'`), hash the
// normalized content, find exact (and optionally near) duplicates, pick the
// split. No SQL: this runs in the import's reader thread for large files, or
// in the writer's own thread for small ones and near-duplicate searches.
import type { FieldMapping, OnError, SkippedLine } from '../../../shared/contract/datasets';
import { DeepenError } from '../../../shared/errors';
import { splitFor, toStored } from '../datasets-content';
import { HashSet64 } from './hashes';
import { applyMapping, isEmptyContent, MappingError } from './mapping';
import type { NearDuplicateIndex } from './minhash';
import { recycleBatch, RecordBatchBuilder, type RecordBatch } from './record-batch';
import type { OpenedSource } from './sources';
import type { RowSink } from './source-types';

export const MAX_REPORTED_SKIPS = 1000;

export interface StreamOptions {
  mapping: FieldMapping | null;
  onError: OnError;
  dedupe: boolean;
  evalRatio: number;
  seed: number;
  /** near-duplicate search (needs the import's database connection: in-thread only) */
  near: NearDuplicateIndex | null;
}

/** What the stream saw, for the import report. */
export interface StreamTally {
  records: number;
  skipped: number;
  skippedLines: SkippedLine[];
  duplicates: number;
  nearDuplicates: number;
  empties: number;
}

export interface StreamOut {
  /** a full batch (and the last one), synchronously: it is written or posted at once (its buffers are reused after) */
  batch(b: RecordBatch): void;
  /** between chunks of the source: progress, cancellation, and the place to wait when the writer is behind */
  tick(bytesRead: number, tally: StreamTally): Promise<void> | void;
  log(text: string, level: 'info' | 'warn'): void;
}

export async function streamRecords(source: OpenedSource, o: StreamOptions, out: StreamOut): Promise<StreamTally> {
  const tally: StreamTally = { records: 0, skipped: 0, skippedLines: [], duplicates: 0, nearDuplicates: 0, empties: 0 };
  const seen = new HashSet64();
  const builder = new RecordBatchBuilder();
  const isFolder = source.format === 'folder';
  let bytesRead = 0;

  const emit = (bytes: number) => {
    const b = builder.take(bytes);
    out.batch(b);
    recycleBatch(b);
  };
  const skip = (file: string, line: number, reason: string, fatal = true) => {
    if (o.onError === 'abort' && fatal) {
      throw new DeepenError('bad_file', `${file}:${line}: ${reason}. The import stopped there and nothing was imported. Fix the line, or import with "skip" to leave such lines out.`, {
        file,
        line,
        reason,
      });
    }
    tally.skipped++;
    if (tally.skippedLines.length < MAX_REPORTED_SKIPS) tally.skippedLines.push({ file, line, reason });
    if (tally.skipped <= 20) out.log(`Skipped ${file}:${line}: ${reason}`, 'warn');
  };
  const add = (content: ReturnType<typeof applyMapping>, line: number, file: string) => {
    if (isEmptyContent(content)) {
      tally.empties++;
      return skip(file, line, 'the record is empty', false);
    }
    const stored = toStored(content);
    if (seen.has(stored.hash)) {
      tally.duplicates++;
      if (o.dedupe) return;
    } else if (o.near?.seen(stored.text)) {
      tally.nearDuplicates++;
      if (o.dedupe) return;
    }
    seen.add(stored.hash);
    tally.records++;
    if (builder.add(stored, splitFor(stored.hash, o.seed, o.evalRatio), line, isFolder ? file : null)) emit(bytesRead);
  };
  const sink: RowSink = {
    row: (value, line, file) => {
      try {
        add(applyMapping(value, o.mapping!), line, file);
      } catch (err) {
        if (err instanceof MappingError) skip(file, line, err.message);
        else throw err;
      }
    },
    doc: (text, line, file) => add({ kind: 'text', text }, line, file),
    problem: (line, reason, file) => skip(file, line, reason),
    tick: (bytes) => {
      bytesRead = bytes;
      return out.tick(bytes, tally);
    },
  };
  await source.read(sink, o.mapping);
  if (builder.count) emit(source.bytes);
  return tally;
}
