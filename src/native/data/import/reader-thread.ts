// A large import in two threads: this module's worker side reads, parses,
// maps, hashes and batches the records (./record-stream) while the import's
// own thread writes the batches to SQLite. On a laptop the two halves cost
// about the same, so an import runs nearly twice as fast as in one thread.
// The reader stays at most MAX_IN_FLIGHT batches ahead (bounded memory) and
// its typed arrays move between the threads without a copy.
import { Worker } from 'node:worker_threads';
import { DeepenError, toErrorInfo, type ErrorInfo } from '../../../shared/errors';
import { workerEntry } from '../../host/worker-entry';
import { batchTransfers, recycleBuffer, type RecordBatch } from './record-batch';
import { streamRecords, type StreamOptions, type StreamOut, type StreamTally } from './record-stream';
import { openSource, type SourceSpec } from './sources';

const MAX_IN_FLIGHT = 4;

export interface ReaderInput {
  spec: SourceSpec;
  options: Omit<StreamOptions, 'near'>;
}

type ReaderMessage =
  | { type: 'batch'; batch: RecordBatch }
  | { type: 'tick'; bytes: number; tally: StreamTally }
  | { type: 'log'; text: string; level: 'info' | 'warn' }
  | { type: 'done'; tally: StreamTally }
  | { type: 'failed'; error: ErrorInfo };

/** Writer side: runs the reader thread and hands its batches, ticks and logs to `out`; resolves with its tally. */
export function readInThread(input: ReaderInput, out: StreamOut): Promise<StreamTally> {
  return new Promise((resolve, reject) => {
    const entry = workerEntry('import-reader', { input });
    const worker = new Worker(entry.url, { workerData: entry.workerData });
    let settled = false;
    const end = (settle: () => void) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      settle();
    };
    worker.on('message', (m: ReaderMessage) => {
      if (settled) return;
      try {
        switch (m.type) {
          case 'batch': {
            out.batch(m.batch);
            // the text buffer goes back for the reader's next batches
            const buffer = m.batch.text.buffer as ArrayBuffer;
            worker.postMessage({ ack: buffer }, [buffer]);
            break;
          }
          case 'tick':
            void out.tick(m.bytes, m.tally);
            break;
          case 'log':
            out.log(m.text, m.level);
            break;
          case 'done':
            end(() => resolve(m.tally));
            break;
          case 'failed':
            end(() => reject(DeepenError.fromInfo(m.error)));
            break;
        }
      } catch (err) {
        // a write failed (disk full) or the job was cancelled: stop reading
        end(() => reject(err));
      }
    });
    worker.on('error', (err) => end(() => reject(err)));
    worker.on('exit', (code) => end(() => reject(new DeepenError('internal', `The import's reader thread stopped unexpectedly (exit code ${code}). Try the import again.`))));
  });
}

/** Reader side: the body of the worker thread (src/native/host/workers/import-reader.ts). */
export async function runReaderThread(input: ReaderInput, port: { postMessage(m: unknown, transfer?: ArrayBuffer[]): void; on(e: 'message', f: (m: unknown) => void): void }): Promise<void> {
  let inFlight = 0;
  let wake: (() => void) | null = null;
  port.on('message', (m) => {
    const ack = (m as { ack?: ArrayBuffer } | null)?.ack;
    if (!ack) return;
    recycleBuffer(ack);
    inFlight--;
    wake?.();
    wake = null;
  });
  const post = (m: ReaderMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  try {
    const source = await openSource(input.spec);
    const tally = await streamRecords(
      source,
      { ...input.options, near: null },
      {
        batch: (batch) => {
          inFlight++;
          post({ type: 'batch', batch }, batchTransfers(batch));
        },
        tick: async (bytes, t) => {
          post({ type: 'tick', bytes, tally: { ...t, skippedLines: [] } });
          while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
        },
        log: (text, level) => post({ type: 'log', text, level }),
      },
    );
    post({ type: 'done', tally });
  } catch (err) {
    post({ type: 'failed', error: toErrorInfo(err) });
  }
}

