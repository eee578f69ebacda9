// Streaming tokenized batches for training: a dataset's split is read in
// chunks (optionally in a seeded shuffled order), each record rendered
// (chat template for instruction/chat records) and tokenized, and the tokens
// packed into fixed [B, T] batches.
//
// Conventions for the trainer:
//   inputIds      Int32Array (B*T), row-major [B, T]
//   lossMask      Uint8Array (B*T): 1 where inputIds[b, t] is a target, i.e.
//                 the loss at t compares the prediction made from tokens < t
//                 with inputIds[b, t]. Position 0 of a row is never a target.
//   attentionMask Uint8Array (B*T): 0 on padding
// Packing concatenates records (pretraining documents end with EOS) and cuts
// rows of T; without packing each record gets its own row, cut at T.
import type { DatasetSplit } from '../../shared/contract/datasets';
import { DeepenError } from '../../shared/errors';
import { fromStored } from './datasets-content';
import { isDatasetReady, requireDataset } from './datasets';
import { readRecordsByIds, recordIds } from './datasets-records';
import type { Db } from './db';
import { renderRecord, tokenizeSegments, type ChatTemplateLike, type TokenEncoder } from './record-render';

export interface BatchOptions {
  datasetId: string;
  /** default 'train' */
  split?: DatasetSplit;
  batchSize: number;
  seqLen: number;
  encoder: TokenEncoder;
  /** appended after each pretraining document */
  eosId?: number | null;
  /** fills padding (default eosId, else 0); padding is never a target */
  padId?: number;
  /** renders instruction/chat records (default: a plain "<|role|>" template) */
  template?: ChatTemplateLike | null;
  /** default true */
  packing?: boolean;
  /** a seeded shuffle of the record order; the epoch varies it */
  shuffle?: { seed: number; epoch?: number } | null;
  /** drop a last, partly filled batch instead of padding it (default false) */
  dropLast?: boolean;
  isCancelled?: () => boolean;
}

export interface TokenBatch {
  batchSize: number;
  seqLen: number;
  inputIds: Int32Array;
  lossMask: Uint8Array;
  attentionMask: Uint8Array;
  /** tokens that are not padding */
  tokens: number;
  /** records read so far, and in the split */
  recordsRead: number;
  recordsTotal: number;
}

/** mulberry32: a small seeded PRNG, so the same seed gives the same order on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleIds(ids: Float64Array, seed: number): Float64Array {
  const rand = prng(seed);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = ids[i];
    ids[i] = ids[j];
    ids[j] = t;
  }
  return ids;
}

const READ_CHUNK = 256;

export async function* streamBatches(db: Db, o: BatchOptions): AsyncGenerator<TokenBatch> {
  const B = Math.floor(o.batchSize);
  const T = Math.floor(o.seqLen);
  if (!(B >= 1) || !(T >= 2)) throw new DeepenError('bad_request', `Batches need a batch size of at least 1 and a sequence length of at least 2 (got ${o.batchSize} × ${o.seqLen}).`);
  // Refuse to start on a dataset that is gone, half-imported or being deleted.
  const dataset = requireDataset(db, o.datasetId);
  const split = o.split ?? 'train';
  let ids = recordIds(db, o.datasetId, split);
  if (!ids.length) throw new DeepenError('bad_request', `The dataset "${dataset.name}" has no ${split} records. ${split === 'eval' ? 'Split it with an eval ratio above 0 first.' : ''}`.trim());
  if (o.shuffle) ids = shuffleIds(ids, (o.shuffle.seed + 0x9e3779b9 * (o.shuffle.epoch ?? 0)) >>> 0);
  const packing = o.packing ?? true;
  const padId = o.padId ?? o.eosId ?? 0;

  let inputIds = new Int32Array(B * T);
  let lossMask = new Uint8Array(B * T);
  let attention = new Uint8Array(B * T);
  let row = 0;
  let col = 0;
  let tokens = 0;
  let read = 0;
  const take = (): TokenBatch => {
    const batch = { batchSize: B, seqLen: T, inputIds, lossMask, attentionMask: attention, tokens, recordsRead: read, recordsTotal: ids.length };
    inputIds = new Int32Array(B * T);
    lossMask = new Uint8Array(B * T);
    attention = new Uint8Array(B * T);
    row = 0;
    col = 0;
    tokens = 0;
    return batch;
  };
  const padRow = () => {
    for (; col < T; col++) inputIds[row * T + col] = padId;
    row++;
    col = 0;
  };

  for (let start = 0; start < ids.length; start += READ_CHUNK) {
    if (o.isCancelled?.()) throw new DeepenError('cancelled', 'Reading the dataset was cancelled.');
    if (!isDatasetReady(db, o.datasetId)) {
      throw new DeepenError(
        'not_found',
        `The dataset "${dataset.name}" was deleted while this run was reading it (after ${read} of ${ids.length} records). The run stopped; re-import the data and start the run again.`,
        { datasetId: o.datasetId, recordsRead: read },
      );
    }
    const chunk = ids.subarray(start, Math.min(ids.length, start + READ_CHUNK));
    const records = readRecordsByIds(db, chunk);
    for (const id of chunk) {
      read++;
      const r = records.get(id);
      if (!r) continue; // deleted by the user since the run started: leave it out
      const tok = tokenizeSegments(renderRecord(fromStored(dataset.kind, r.text, r.data), o.template ?? null), o.encoder, o.eosId);
      if (!packing) {
        const n = Math.min(T, tok.ids.length);
        for (let k = 0; k < n; k++) {
          inputIds[row * T + k] = tok.ids[k];
          lossMask[row * T + k] = k === 0 ? 0 : tok.loss[k];
          attention[row * T + k] = 1;
        }
        tokens += n;
        col = n;
        padRow();
        if (row === B) yield take();
        continue;
      }
      for (let k = 0; k < tok.ids.length; k++) {
        const at = row * T + col;
        inputIds[at] = tok.ids[k];
        lossMask[at] = col === 0 ? 0 : tok.loss[k];
        attention[at] = 1;
        tokens++;
        if (++col === T) {
          row++;
          col = 0;
          if (row === B) yield take();
        }
      }
    }
    // let the event loop breathe between chunks (cancellation, progress)
    await new Promise((r) => setImmediate(r));
  }
  if ((row > 0 || col > 0) && !o.dropLast) {
    if (col > 0) padRow();
    while (row < B) padRow();
    yield take();
  }
}
