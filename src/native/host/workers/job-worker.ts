// Entry of a job worker thread: runs one job and reports back.
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorInfo } from '../../../shared/errors';
import { cancelledError, type JobContext, type JobWorkerData, type WorkerToHost } from '../jobs/job-types';
import { jobRunners } from '../jobs/registry';

const data = workerData as JobWorkerData;
const flag = new Int32Array(data.cancelFlag);
const post = (m: WorkerToHost) => parentPort!.postMessage(m);

// Progress is throttled here so a runner may report per tensor or per token.
let lastProgressAt = 0;
let pendingProgress: { fraction: number; message?: string } | null = null;
let progressTimer: NodeJS.Timeout | null = null;
function flushProgress() {
  progressTimer = null;
  if (pendingProgress) post({ type: 'progress', ...pendingProgress });
  pendingProgress = null;
  lastProgressAt = Date.now();
}

const ctx: JobContext = {
  jobId: data.jobId,
  dataDir: data.dataDir,
  progress(fraction, message) {
    pendingProgress = { fraction: Math.max(0, Math.min(1, fraction)), message };
    const wait = 100 - (Date.now() - lastProgressAt);
    if (wait <= 0) flushProgress();
    else if (!progressTimer) progressTimer = setTimeout(flushProgress, wait);
  },
  log(text, level = 'info') {
    post({ type: 'log', level, text });
  },
  metric(name, value, step) {
    post({ type: 'metric', name, value, step });
  },
  isCancelled: () => Atomics.load(flag, 0) === 1,
  throwIfCancelled() {
    if (Atomics.load(flag, 0) === 1) throw cancelledError();
  },
};

async function main() {
  const load = jobRunners[data.kind];
  if (!load) throw new Error(`unknown job kind ${data.kind}`);
  const runner = await load();
  const result = await runner(data.input, ctx);
  if (progressTimer) clearTimeout(progressTimer);
  if (pendingProgress) flushProgress();
  post({ type: 'done', result: result ?? null });
}

main().catch((err) => {
  if (progressTimer) clearTimeout(progressTimer);
  post({ type: 'failed', error: toErrorInfo(err) });
});
