// Datasets as the renderer sees them: the list, the open dataset's detail
// and statistics, the records filter of the table, and the jobs this page
// started (import, split, export, delete, count tokens). Kept live by
// `datasets.changed` and by finished dataset jobs, which change the database
// from a worker where no event can be sent.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DatasetDetail, DatasetStats, DatasetSummary, ImportParams, ImportPreview, JobSummary, PreviewParams, RecordDetail, RecordFilter } from '@shared/contract';
import { useApi } from '../api/useApi';
import { useNotificationsStore } from './useNotificationsStore';

/** A search lists at most this many matches (counting a common word over a million records takes seconds). */
export const SEARCH_COUNT_LIMIT = 100_000;

export const DATASET_JOB_KINDS = ['dataset-import', 'dataset-delete', 'dataset-delete-where', 'dataset-split', 'dataset-export', 'dataset-tokens'];

/** The filter with empty parts removed, so equal filters compare equal. */
export function cleanFilter(f: RecordFilter): RecordFilter {
  const out: RecordFilter = {};
  if (f.query?.trim()) out.query = f.query.trim();
  if (f.split) out.split = f.split;
  if (typeof f.minChars === 'number' && Number.isFinite(f.minChars)) out.minChars = f.minChars;
  if (typeof f.maxChars === 'number' && Number.isFinite(f.maxChars)) out.maxChars = f.maxChars;
  return out;
}

export const useDatasetsStore = defineStore('datasets', () => {
  const api = useApi();
  const notify = useNotificationsStore();

  const byId = ref<Record<string, DatasetSummary>>({});
  const loaded = ref(false);
  const detail = ref<DatasetDetail | null>(null);
  const stats = ref<DatasetStats | null>(null);
  const statsLoading = ref(false);
  const filter = ref<RecordFilter>({});
  /** matching records for the current filter (null while counting) */
  const matchCount = ref<number | null>(null);
  /** the count stopped at SEARCH_COUNT_LIMIT: the table shows that many */
  const matchCapped = ref(false);
  /** bumped whenever records may have changed, so the table drops its cached pages */
  const recordsVersion = ref(0);
  /** bumped when a job changed the open dataset, so the statistics panel reloads */
  const statsVersion = ref(0);
  let statsRequest = 0;
  /** dataset jobs started from this page, newest first */
  const jobIds = ref<string[]>([]);

  const datasets = computed(() => Object.values(byId.value).sort((a, b) => b.createdAt - a.createdAt));

  async function load(): Promise<void> {
    const list = await notify.attempt('Could not list the datasets', () => api.call('datasets.list', {}));
    if (!list) return;
    byId.value = Object.fromEntries(list.map((d) => [d.id, d]));
    loaded.value = true;
    if (detail.value && !byId.value[detail.value.id]) close();
  }

  function close(): void {
    detail.value = null;
    stats.value = null;
    matchCount.value = null;
  }

  async function open(id: string): Promise<void> {
    if (detail.value?.id !== id) {
      close();
      filter.value = {};
    }
    try {
      detail.value = await api.call('datasets.get', { id });
      byId.value[id] = detail.value;
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found') {
        delete byId.value[id];
        close();
      } else notify.error('Could not open the dataset', err);
      return;
    }
    await recount();
  }

  /** Counts the records matching the filter; the plain cases are known without asking. */
  async function recount(): Promise<void> {
    const d = detail.value;
    if (!d) return;
    const f = cleanFilter(filter.value);
    const keys = Object.keys(f);
    matchCapped.value = false;
    if (!keys.length) return void (matchCount.value = d.records);
    if (keys.length === 1 && f.split) return void (matchCount.value = f.split === 'train' ? d.trainRecords : d.evalRecords);
    matchCount.value = null;
    const asked = JSON.stringify(f);
    const r = await notify.attempt('Could not count the records', () => api.call('datasets.count', { datasetId: d.id, filter: f, limit: f.query ? SEARCH_COUNT_LIMIT : undefined }));
    if (r && JSON.stringify(cleanFilter(filter.value)) === asked && detail.value?.id === d.id) {
      matchCount.value = r.count;
      matchCapped.value = r.capped;
    }
  }

  function setFilter(f: RecordFilter): void {
    filter.value = cleanFilter(f);
    recordsVersion.value++;
    void recount();
  }

  async function loadStats(opts: { tokenizerId?: string; seqLen?: number } = {}): Promise<void> {
    const d = detail.value;
    if (!d) return;
    statsLoading.value = true;
    const mine = ++statsRequest;
    try {
      const s = await notify.attempt('Could not compute the statistics', () => api.call('datasets.stats', { datasetId: d.id, ...opts }));
      // only the latest request counts: an older answer must not overwrite a newer one
      if (s && mine === statsRequest && detail.value?.id === d.id) stats.value = s;
    } finally {
      statsLoading.value = false;
    }
  }

  /** Something changed the records: reload counts, and the table's pages. */
  async function refreshOpen(): Promise<void> {
    recordsVersion.value++;
    if (detail.value) await open(detail.value.id);
    statsVersion.value++;
  }

  function track(jobId: string): string {
    jobIds.value = [jobId, ...jobIds.value.filter((j) => j !== jobId)].slice(0, 20);
    return jobId;
  }

  api.on('datasets.changed', ({ datasetId, reason }) => {
    if (reason === 'records' && datasetId && datasetId === detail.value?.id) {
      // the table updates edited rows itself; counts and stats may have moved
      void open(datasetId);
      return;
    }
    if (reason === 'indexed' && datasetId && datasetId === detail.value?.id) {
      // more records are searchable: a search in force finds more (reopening also updates the list entry)
      void refreshOpen();
      return;
    }
    void load();
  });
  api.on('job.updated', (job: JobSummary) => {
    if (!DATASET_JOB_KINDS.includes(job.kind) || (job.state !== 'succeeded' && job.state !== 'failed' && job.state !== 'cancelled')) return;
    void load().then(() => (job.kind === 'dataset-import' || job.kind === 'dataset-delete' ? undefined : refreshOpen()));
  });

  // Calls whose errors the dialogs show next to the fields (they throw).
  const preview = (p: PreviewParams): Promise<ImportPreview> => api.call('datasets.preview', p);
  async function startImport(p: ImportParams): Promise<{ jobId: string; datasetId: string }> {
    const r = await api.call('datasets.import', p);
    track(r.jobId);
    return r;
  }
  async function startSplit(evalRatio: number, seed: number): Promise<string> {
    return track((await api.call('datasets.split', { datasetId: detail.value!.id, evalRatio, seed })).jobId);
  }
  async function startExport(path: string, filtered: boolean): Promise<string> {
    const f = cleanFilter(filter.value);
    return track((await api.call('datasets.export', { datasetId: detail.value!.id, path, filter: filtered && Object.keys(f).length ? f : undefined })).jobId);
  }
  async function deleteMatching(): Promise<string> {
    return track((await api.call('datasets.deleteWhere', { datasetId: detail.value!.id, filter: cleanFilter(filter.value) })).jobId);
  }
  /** Starts (or finds) the job indexing the open dataset's remaining records for search. */
  async function indexForSearch(): Promise<void> {
    const d = detail.value;
    if (!d) return;
    const r = await notify.attempt('Could not start indexing for search', () => api.call('datasets.index', { datasetId: d.id }));
    if (r && detail.value?.id === d.id) detail.value = { ...detail.value, searchIndexJobId: r.jobId };
  }
  async function countTokens(modelDir: string): Promise<string> {
    return track((await api.call('datasets.countTokens', { datasetId: detail.value!.id, modelDir })).jobId);
  }

  // Calls with a toast on failure.
  async function rename(id: string, name: string): Promise<boolean> {
    const d = await notify.attempt('Could not rename the dataset', () => api.call('datasets.rename', { id, name }));
    if (!d) return false;
    byId.value[id] = d;
    if (detail.value?.id === id) detail.value = { ...detail.value, ...d };
    return true;
  }
  async function remove(id: string): Promise<boolean> {
    const r = await notify.attempt('Could not delete the dataset', () => api.call('datasets.delete', { id }));
    if (!r) return false;
    track(r.jobId);
    delete byId.value[id];
    if (detail.value?.id === id) close();
    return true;
  }
  const getRecord = (id: number) => api.call('datasets.record.get', { id });
  async function updateRecord(id: number, patch: { content?: RecordDetail['content']; split?: RecordDetail['split'] }): Promise<RecordDetail> {
    return api.call('datasets.record.update', { id, ...patch });
  }
  async function deleteRecord(id: number): Promise<boolean> {
    const ok = await notify.attempt('Could not delete the record', async () => {
      await api.call('datasets.record.delete', { id });
      return true;
    });
    if (ok) recordsVersion.value++;
    return !!ok;
  }

  return {
    byId,
    datasets,
    loaded,
    detail,
    stats,
    statsLoading,
    filter,
    matchCount,
    matchCapped,
    recordsVersion,
    statsVersion,
    jobIds,
    load,
    open,
    close,
    setFilter,
    recount,
    loadStats,
    refreshOpen,
    preview,
    startImport,
    startSplit,
    startExport,
    deleteMatching,
    indexForSearch,
    countTokens,
    rename,
    remove,
    getRecord,
    updateRecord,
    deleteRecord,
  };
});
