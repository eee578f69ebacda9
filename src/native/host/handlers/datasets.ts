import { datasetMethods, type ImportReport, type RecordFilter, type RenderedRecord } from '../../../shared/contract/datasets';
import type { PayloadOf } from '../../../shared/contract/index';
import { DeepenError } from '../../../shared/errors';
import {
  abandonedDatasets,
  checkDatasetName,
  createPendingDataset,
  findDatasetByName,
  getDatasetDetail,
  getDatasetRow,
  listDatasets,
  markDatasetDeleting,
  renameDataset,
  requireDataset,
  setDatasetJob,
} from '../../data/datasets';
import { datasetsToIndex, needsIndexing } from '../../data/datasets-search-index';
import { validateContent } from '../../data/datasets-content';
import { countRecords, deleteRecord, filterIsEmpty, getRecord, pageRecords, updateRecord } from '../../data/datasets-records';
import { datasetStats } from '../../data/datasets-stats';
import { DEFAULT_MAX_RECORD_BYTES } from '../../data/import/line-reader';
import { previewImport } from '../../data/import/preview';
import { openSource } from '../../data/import/sources';
import { renderRecord, tokenizeSegments } from '../../data/record-render';
import { loadDatasetTokenizer } from '../dataset-tokenizer';
import type { HandlersFor, HostServices } from '../services';

/** Tokens sent back by datasets.render at most (a preview, not the whole of a long record). */
const MAX_RENDERED_TOKENS = 16_384;

function checkFilter(filter: RecordFilter | undefined): RecordFilter | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'object') throw new DeepenError('bad_request', 'The record filter must be an object.');
  return filter;
}

function checkRatio(evalRatio: unknown): number {
  const r = Number(evalRatio);
  if (!(r >= 0 && r <= 1)) throw new DeepenError('bad_request', `The eval ratio must be a number from 0 to 1 (e.g. 0.05 for 5%), got ${String(evalRatio)}.`);
  return r;
}

function checkSeed(seed: unknown): number {
  const s = seed === undefined ? 0 : Number(seed);
  if (!Number.isInteger(s) || Math.abs(s) > 2 ** 31) throw new DeepenError('bad_request', `The seed must be a whole number, got ${String(seed)}.`);
  return s;
}

export function datasetHandlers(s: HostServices): HandlersFor<typeof datasetMethods> {
  // An import or delete that a crash cut short left a hidden dataset holding its
  // name: free the name now; the next dataset job removes the rows.
  for (const id of abandonedDatasets(s.db)) markDatasetDeleting(s.db, id, null);
  const changed = (datasetId: string | null, reason: PayloadOf<'datasets.changed'>['reason']) => s.emit('datasets.changed', { datasetId, reason });

  // Search indexing follows every import, and picks up at start whatever a
  // cancel or a crash left unindexed. One job per dataset at a time.
  const indexing = new Map<string, string>();
  const ensureIndexing = (datasetId: string): string | null => {
    const running = indexing.get(datasetId);
    if (running) return running;
    if (!needsIndexing(s.db, datasetId)) return null;
    const job = s.jobs.start('dataset-index', `Index ${getDatasetRow(s.db, datasetId)!.name} for search`, { datasetId });
    indexing.set(datasetId, job.id);
    return job.id;
  };
  s.jobs.onSettled((job, result) => {
    if (job.kind === 'dataset-import' && job.state === 'succeeded') ensureIndexing((result as ImportReport).datasetId);
    if (job.kind !== 'dataset-index') return;
    for (const [datasetId, jobId] of indexing) {
      if (jobId !== job.id) continue;
      indexing.delete(datasetId);
      changed(datasetId, 'indexed');
    }
  });
  s.atResume(() => {
    for (const id of datasetsToIndex(s.db)) ensureIndexing(id);
  });

  return {
    'datasets.list': () => listDatasets(s.db),
    'datasets.get': (p) => {
      const d = getDatasetDetail(s.db, p?.id);
      return { ...d, searchIndexJobId: indexing.get(d.id) ?? null };
    },
    'datasets.rename': (p) => {
      const d = renameDataset(s.db, p?.id, p?.name, Date.now());
      changed(d.id, 'renamed');
      return d;
    },
    'datasets.delete': (p) => {
      const d = requireDataset(s.db, p?.id);
      const job = s.jobs.start('dataset-delete', `Delete dataset ${d.name}`, { datasetId: d.id });
      markDatasetDeleting(s.db, d.id, job.id);
      changed(d.id, 'deleted');
      return { jobId: job.id };
    },
    'datasets.preview': (p) => previewImport(p),
    'datasets.import': async (p) => {
      const name = checkDatasetName(p?.name);
      if (findDatasetByName(s.db, name)) throw new DeepenError('conflict', `A dataset named "${name}" already exists. Pick another name, or delete or rename that one first.`);
      if (p.onError !== undefined && p.onError !== 'skip' && p.onError !== 'abort') throw new DeepenError('bad_request', `onError must be "skip" or "abort", got "${String(p.onError)}".`);
      const evalRatio = checkRatio(p.evalRatio ?? 0);
      const seed = checkSeed(p.seed);
      // fail now, not in the job, on a missing path, an unknown format or an empty file
      const source = await openSource({ ...p, maxRecordBytes: p.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES });
      const datasetId = createPendingDataset(s.db, { name, kind: p.kind ?? p.mapping?.kind ?? 'text', source: source.path, jobId: null, evalRatio, seed, now: Date.now() });
      try {
        const job = s.jobs.start('dataset-import', `Import ${name}`, { ...p, name, evalRatio, seed, datasetId });
        setDatasetJob(s.db, datasetId, job.id);
        return { jobId: job.id, datasetId };
      } catch (err) {
        markDatasetDeleting(s.db, datasetId, null);
        throw err;
      }
    },
    'datasets.index': (p) => ({ jobId: ensureIndexing(requireDataset(s.db, p?.datasetId).id) }),
    'datasets.records': (p) => {
      requireDataset(s.db, p?.datasetId);
      return pageRecords(s.db, { ...p, filter: checkFilter(p.filter) });
    },
    'datasets.count': (p) => {
      requireDataset(s.db, p?.datasetId);
      const limit = p.limit === undefined || p.limit === null ? undefined : Math.max(1, Math.floor(Number(p.limit)) || 1);
      const count = countRecords(s.db, p.datasetId, checkFilter(p.filter), limit === undefined ? undefined : limit + 1);
      return limit !== undefined && count > limit ? { count: limit, capped: true } : { count, capped: false };
    },
    'datasets.record.get': (p) => getRecord(s.db, Number(p?.id)),
    'datasets.record.update': (p) => {
      const before = getRecord(s.db, Number(p?.id));
      const kind = requireDataset(s.db, before.datasetId).kind;
      const content = p.content === undefined ? undefined : validateContent(kind, p.content);
      const r = updateRecord(s.db, before.id, { content, split: p.split });
      changed(r.datasetId, 'records');
      return r;
    },
    'datasets.record.delete': (p) => {
      changed(deleteRecord(s.db, Number(p?.id)), 'records');
    },
    'datasets.deleteWhere': (p) => {
      const d = requireDataset(s.db, p?.datasetId);
      const filter = checkFilter(p.filter);
      if (filterIsEmpty(filter)) throw new DeepenError('bad_request', 'Deleting by filter needs at least one criterion (search, split or length). To remove every record, delete the dataset.');
      return { jobId: s.jobs.start('dataset-delete-where', `Delete matching records from ${d.name}`, { datasetId: d.id, filter }).id };
    },
    'datasets.stats': (p) => datasetStats(s.db, p),
    'datasets.split': (p) => {
      const d = requireDataset(s.db, p?.datasetId);
      const evalRatio = checkRatio(p.evalRatio);
      const seed = checkSeed(p.seed);
      return { jobId: s.jobs.start('dataset-split', `Split ${d.name} (${Math.round(evalRatio * 1000) / 10}% eval, seed ${seed})`, { datasetId: d.id, evalRatio, seed }).id };
    },
    'datasets.export': (p) => {
      const d = requireDataset(s.db, p?.datasetId);
      if (typeof p.path !== 'string' || !p.path.trim()) throw new DeepenError('bad_request', 'Give the path of the .jsonl file to write.');
      return { jobId: s.jobs.start('dataset-export', `Export ${d.name}`, { datasetId: d.id, path: p.path, filter: checkFilter(p.filter) }).id };
    },
    'datasets.countTokens': (p) => {
      const d = requireDataset(s.db, p?.datasetId);
      if (typeof p.modelDir !== 'string' || !p.modelDir) throw new DeepenError('bad_request', 'Pick a model whose tokenizer to count with.');
      return { jobId: s.jobs.start('dataset-tokens', `Count tokens of ${d.name}`, { datasetId: d.id, modelDir: p.modelDir }).id };
    },
    'datasets.render': async (p): Promise<RenderedRecord> => {
      const record = getRecord(s.db, Number(p?.recordId));
      const tok = await loadDatasetTokenizer(p.modelDir);
      const rendered = renderRecord(record.content, tok.template);
      const { ids, loss } = tokenizeSegments(rendered, tok.encoder, tok.eosId);
      const seqLen = p.seqLen && p.seqLen > 0 ? Math.floor(p.seqLen) : null;
      const shown = Math.min(ids.length, Math.max(seqLen ? seqLen + 256 : 0, MAX_RENDERED_TOKENS));
      const tokens = Array.from({ length: shown }, (_, i) => ({ id: ids[i], text: tok.tokenText(ids[i]), loss: loss[i] === 1 }));
      let lossTokens = 0;
      for (const l of loss) lossTokens += l;
      return {
        mode: rendered.mode,
        note: rendered.note ?? null,
        text: rendered.segments.map((x) => x.text).join(''),
        tokens,
        total: ids.length,
        lossTokens,
        truncatedAt: seqLen !== null && ids.length > seqLen ? seqLen : null,
      };
    },
  };
}
