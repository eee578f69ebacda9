// SQL for dataset statistics (lengths, histogram, duplicates) and the cached
// token counts per tokenizer. Length queries read dataset_lengths (records per
// length and split: a few thousand rows whatever the dataset's size) and the
// duplicate count reads dataset_hashes, so they never read the records.
import type { DatasetStats, HistogramBin } from '../../shared/contract/datasets';
import type { Db } from './db';
import { requireDataset } from './datasets';

/** Bin edges for lengths from 0 to max: linear for small ranges, geometric when lengths span orders of magnitude. */
export function binEdges(min: number, max: number, bins: number): number[] {
  const n = Math.max(1, Math.min(200, Math.floor(bins)));
  const hi = Math.max(max + 1, 2);
  if (hi <= n * 4 || max < 64 || max / Math.max(1, min) < 20) {
    const step = Math.max(1, Math.ceil(hi / n));
    return Array.from({ length: Math.ceil(hi / step) + 1 }, (_, i) => i * step);
  }
  const lo = Math.max(1, min);
  const ratio = Math.pow(hi / lo, 1 / n);
  const edges = [0, lo];
  for (let i = 1; i <= n; i++) {
    const e = Math.ceil(lo * Math.pow(ratio, i));
    if (e > edges[edges.length - 1]) edges.push(e);
  }
  if (edges[edges.length - 1] < hi) edges.push(hi);
  return edges;
}

function histogram(db: Db, sql: string, params: unknown[], edges: number[]): HistogramBin[] {
  const count = db.prepare(sql).pluck();
  const bins: HistogramBin[] = [];
  for (let i = 0; i + 1 < edges.length; i++) bins.push({ from: edges[i], to: edges[i + 1], count: count.get(...params, edges[i], edges[i + 1]) as number });
  // leading empty bins (before the shortest record) only waste width
  while (bins.length > 1 && bins[0].count === 0) bins.shift();
  return bins;
}

/** The value at rank k (0-based) of a dataset's lengths: the first length whose running count passes k. */
function lengthAtRank(db: Db, datasetId: string, k: number): number {
  const row = db
    .prepare(
      `SELECT chars FROM (SELECT chars, sum(records) OVER (ORDER BY chars ROWS UNBOUNDED PRECEDING) AS upto
       FROM dataset_lengths WHERE dataset_id = ? AND records > 0) WHERE upto > ? ORDER BY chars LIMIT 1`,
    )
    .pluck()
    .get(datasetId, k);
  return (row as number | undefined) ?? 0;
}

export function datasetStats(db: Db, p: { datasetId: string; tokenizerId?: string; seqLen?: number; bins?: number }): DatasetStats {
  const d = requireDataset(db, p.datasetId);
  const agg = db
    .prepare(
      `SELECT coalesce(sum(records), 0) AS n, coalesce(sum(chars * records), 0) AS total, coalesce(min(chars), 0) AS mn, coalesce(max(chars), 0) AS mx
       FROM dataset_lengths WHERE dataset_id = ? AND records > 0`,
    )
    .get(d.id) as { n: number; total: number; mn: number; mx: number };
  const distinct = (db.prepare(`SELECT count(DISTINCT hash) FROM dataset_hashes WHERE dataset_id = ?`).pluck().get(d.id) as number) ?? 0;
  const bins = p.bins ?? 40;
  const seqLen = p.seqLen && p.seqLen > 0 ? Math.floor(p.seqLen) : null;

  let tokens: DatasetStats['tokens'] = null;
  let hist: DatasetStats['histogram'];
  let overSeqLen: DatasetStats['overSeqLen'] = null;
  const tok = p.tokenizerId
    ? (db
        .prepare(
          `SELECT count(*) AS n, coalesce(sum(tokens), 0) AS total, coalesce(min(tokens), 0) AS mn, coalesce(max(tokens), 0) AS mx
           FROM dataset_token_counts WHERE dataset_id = ? AND tokenizer_id = ?`,
        )
        .get(d.id, p.tokenizerId) as { n: number; total: number; mn: number; mx: number })
    : null;
  if (tok && tok.n > 0) {
    tokens = { tokenizerId: p.tokenizerId!, counted: tok.n, total: tok.total, min: tok.mn, max: tok.mx, mean: tok.total / tok.n };
    hist = {
      unit: 'tokens',
      bins: histogram(db, `SELECT count(*) FROM dataset_token_counts WHERE dataset_id = ? AND tokenizer_id = ? AND tokens >= ? AND tokens < ?`, [d.id, p.tokenizerId], binEdges(tok.mn, tok.mx, bins)),
    };
    if (seqLen) {
      const over = db.prepare(`SELECT count(*) FROM dataset_token_counts WHERE dataset_id = ? AND tokenizer_id = ? AND tokens > ?`).pluck().get(d.id, p.tokenizerId, seqLen) as number;
      overSeqLen = { count: over, exact: tok.n === agg.n };
    }
  } else {
    hist = {
      unit: 'chars',
      bins: histogram(db, `SELECT coalesce(sum(records), 0) FROM dataset_lengths WHERE dataset_id = ? AND chars >= ? AND chars < ?`, [d.id], binEdges(agg.mn, agg.mx, bins)),
    };
    if (seqLen) {
      // without cached counts: about 4 characters a token for English text and code
      const over = db.prepare(`SELECT coalesce(sum(records), 0) FROM dataset_lengths WHERE dataset_id = ? AND chars > ?`).pluck().get(d.id, seqLen * 4) as number;
      overSeqLen = { count: over, exact: false };
    }
  }
  return {
    records: agg.n,
    characters: agg.total,
    trainRecords: d.trainRecords,
    evalRecords: d.evalRecords,
    minChars: agg.mn,
    maxChars: agg.mx,
    meanChars: agg.n ? agg.total / agg.n : 0,
    medianChars: agg.n ? lengthAtRank(db, d.id, Math.floor((agg.n - 1) / 2)) : 0,
    duplicates: agg.n - distinct,
    histogram: hist,
    seqLen,
    overSeqLen,
    tokens,
  };
}

export function registerTokenizer(db: Db, t: { id: string; label: string; modelDir: string }): void {
  db.prepare(`INSERT INTO dataset_tokenizers (id, label, model_dir, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET label = excluded.label, model_dir = excluded.model_dir`).run(
    t.id,
    t.label,
    t.modelDir,
    Date.now(),
  );
}

/** Records of a dataset without a cached count for this tokenizer, in id order after `afterId`. */
export function recordsWithoutTokenCount(db: Db, datasetId: string, tokenizerId: string, afterId: number, limit: number): { id: number; text: string; data: string | null }[] {
  return db
    .prepare(
      `SELECT r.id, r.text, r.data FROM dataset_records r
       WHERE r.dataset_id = ? AND r.id > ? AND NOT EXISTS (SELECT 1 FROM dataset_token_counts c WHERE c.record_id = r.id AND c.tokenizer_id = ?)
       ORDER BY r.id LIMIT ?`,
    )
    .all(datasetId, afterId, tokenizerId, limit) as { id: number; text: string; data: string | null }[];
}

export function saveTokenCounts(db: Db, datasetId: string, tokenizerId: string, counts: { id: number; tokens: number }[]): void {
  const put = db.prepare(`INSERT OR REPLACE INTO dataset_token_counts (record_id, tokenizer_id, dataset_id, tokens) VALUES (?, ?, ?, ?)`);
  db.transaction(() => {
    for (const c of counts) put.run(c.id, tokenizerId, datasetId, c.tokens);
  })();
}

export function countRecordsWithoutTokens(db: Db, datasetId: string, tokenizerId: string): number {
  return db
    .prepare(`SELECT count(*) FROM dataset_records r WHERE r.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM dataset_token_counts c WHERE c.record_id = r.id AND c.tokenizer_id = ?)`)
    .pluck()
    .get(datasetId, tokenizerId) as number;
}
