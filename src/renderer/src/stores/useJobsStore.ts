// Jobs as the engine reports them: a list kept live by `job.updated`, logs
// kept live by `job.log` for jobs whose detail was opened, and the last value
// of each metric. Any page that starts a job can simply show this store.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { JobDetail, JobLogLine, JobState, JobSummary } from '@shared/contract';
import { useApi } from '../api/useApi';
import { useNotificationsStore } from './useNotificationsStore';

const finished: ReadonlySet<JobState> = new Set<JobState>(['succeeded', 'failed', 'cancelled', 'interrupted']);
export const isFinished = (state: JobState): boolean => finished.has(state);

/** Keep the newest lines per job; the engine keeps the full log. */
const MAX_LOG_LINES = 5_000;

export const useJobsStore = defineStore('jobs', () => {
  const api = useApi();
  const notify = useNotificationsStore();

  const byId = ref<Record<string, JobSummary>>({});
  const details = ref<Record<string, Pick<JobDetail, 'input' | 'result'>>>({});
  const logs = ref<Record<string, JobLogLine[]>>({});
  const metrics = ref<Record<string, Record<string, number>>>({});
  const loaded = ref(false);
  const loading = ref(false);

  // Job rows in the database lag behind events (progress writes are
  // throttled), so an event seen while a list request is in flight is newer
  // than what the list returns for that job.
  let seenWhileLoading: Set<string> | null = null;

  const jobs = computed(() => Object.values(byId.value).sort((a, b) => b.createdAt - a.createdAt));
  const activeJobs = computed(() => jobs.value.filter((j) => !isFinished(j.state)));

  function upsert(job: JobSummary): void {
    byId.value[job.id] = job;
  }

  api.on('job.updated', (job) => {
    seenWhileLoading?.add(job.id);
    upsert(job);
  });
  api.on('job.log', ({ jobId, line }) => {
    const lines = logs.value[jobId];
    if (!lines) return; // nobody opened this job's log; the engine keeps it
    appendLines(jobId, [line]);
  });
  api.on('job.metric', ({ jobId, name, value }) => {
    (metrics.value[jobId] ??= {})[name] = value;
  });

  function appendLines(jobId: string, incoming: JobLogLine[]): void {
    const lines = logs.value[jobId] ?? [];
    const last = lines.length ? lines[lines.length - 1].seq : -Infinity;
    // Events and a jobs.get answer can overlap; seq orders and dedupes them.
    const inOrder = incoming.every((l, i) => l.seq > (i === 0 ? last : incoming[i - 1].seq));
    const merged = inOrder ? lines.concat(incoming) : mergeBySeq(lines, incoming);
    logs.value[jobId] = merged.length > MAX_LOG_LINES ? merged.slice(-MAX_LOG_LINES) : merged;
  }

  async function load(): Promise<void> {
    loading.value = true;
    seenWhileLoading = new Set();
    try {
      const list = await notify.attempt('Could not list the jobs', () => api.call('jobs.list', { limit: 200 }));
      if (!list) return;
      for (const job of list) if (!seenWhileLoading.has(job.id)) upsert(job);
      loaded.value = true;
    } finally {
      seenWhileLoading = null;
      loading.value = false;
    }
  }

  /** Loads one job with its log and follows the log from then on. */
  async function loadDetail(id: string): Promise<JobDetail | undefined> {
    logs.value[id] ??= [];
    const detail = await notify.attempt('Could not open the job', () => api.call('jobs.get', { id }));
    if (!detail) return undefined;
    const { logs: lines, input, result, ...summary } = detail;
    // An event may already carry a newer state than the row we just read.
    if (!byId.value[id] || isFinished(summary.state) || !isFinished(byId.value[id].state)) upsert(summary);
    details.value[id] = { input, result };
    appendLines(id, lines);
    return detail;
  }

  /** Stops following a job's log (leaving its page). */
  function forgetLog(id: string): void {
    delete logs.value[id];
  }

  async function cancel(id: string): Promise<void> {
    const job = await notify.attempt('Could not cancel the job', () => api.call('jobs.cancel', { id }));
    if (job) upsert(job);
  }

  async function remove(id: string): Promise<boolean> {
    const ok = await notify.attempt('Could not delete the job', async () => {
      await api.call('jobs.delete', { id });
      return true;
    });
    if (!ok) return false;
    delete byId.value[id];
    delete details.value[id];
    delete logs.value[id];
    delete metrics.value[id];
    return true;
  }

  /** Starts the engine self-test (a one-node ONNX graph per available provider); returns the job id. */
  async function runSelftest(): Promise<string | undefined> {
    const started = await notify.attempt('Could not start the self-test', () => api.call('engine.selftest', {}));
    return started?.jobId;
  }

  return { byId, jobs, activeJobs, details, logs, metrics, loaded, loading, load, loadDetail, forgetLog, cancel, remove, runSelftest };
});

function mergeBySeq(a: JobLogLine[], b: JobLogLine[]): JobLogLine[] {
  const bySeq = new Map<number, JobLogLine>();
  for (const l of a) bySeq.set(l.seq, l);
  for (const l of b) bySeq.set(l.seq, l);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}
