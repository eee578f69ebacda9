// Runs jobs in worker threads, persists every state change, streams progress
// and logs as events, and cancels cooperatively (shared flag) with a hard
// stop (worker.terminate) if the runner does not respond in time.
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { DeepenError, toErrorInfo, type ErrorInfo } from '../../../shared/errors';
import type { JobLogLine, JobSummary } from '../../../shared/contract/jobs';
import type { Db } from '../../data/db';
import * as jobsSql from '../../data/jobs';
import { workerEntry } from '../worker-entry';
import type { JobWorkerData, WorkerToHost } from './job-types';
import { isJobKind, jobLeftovers } from './registry';

export interface JobEvents {
  updated(job: JobSummary): void;
  log(jobId: string, line: JobLogLine): void;
  metric(jobId: string, name: string, value: number, step?: number): void;
}

interface Running {
  worker: Worker;
  cancelFlag: Int32Array;
  cancelRequested: boolean;
  hardStop?: NodeJS.Timeout;
  lastWrite: number;
  /** progress received but not yet written (writes are throttled) */
  unwritten: { fraction: number; message: string } | null;
  settled: boolean;
  resolveDone: () => void;
}

const MAX_LOG_LINES_PER_JOB = 20_000;

export class JobManager {
  private readonly running = new Map<string, Running>();
  private readonly queue: string[] = [];
  private readonly inputs = new Map<string, unknown>();
  private readonly logCounts = new Map<string, number>();
  private readonly done = new Map<string, Promise<void>>();
  private readonly settledListeners: ((job: JobSummary, result: unknown) => void)[] = [];
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly events: JobEvents,
    private readonly opts: { dataDir: string; maxConcurrent?: number; cancelGraceMs?: number },
  ) {
    jobsSql.markAbandonedJobsInterrupted(db, Date.now());
  }

  /** Queues a job; it starts as soon as a slot is free. */
  start(kind: string, title: string, input: unknown): JobSummary {
    if (this.closed) throw new DeepenError('engine_closed', 'The engine is shutting down; start the job again after it restarts.');
    if (!isJobKind(kind)) throw new DeepenError('bad_request', `Unknown job kind "${kind}".`);
    const id = randomUUID();
    jobsSql.insertJob(this.db, { id, kind, title, input, createdAt: Date.now() });
    this.inputs.set(id, input);
    this.queue.push(id);
    const job = jobsSql.getJob(this.db, id)!;
    this.events.updated(job);
    this.pump();
    return job;
  }

  /**
   * Calls `listener` whenever a job reaches a final state, with its result
   * (succeeded jobs), before wait() resolves: a domain starts its follow-up
   * work here (an import's search indexing).
   */
  onSettled(listener: (job: JobSummary, result: unknown) => void): void {
    this.settledListeners.push(listener);
  }

  /** Resolves once the job has reached a final state (for the CLI and tests). */
  async wait(id: string): Promise<JobSummary> {
    const p = this.done.get(id);
    if (p) await p;
    const job = jobsSql.getJob(this.db, id);
    if (!job) throw new DeepenError('not_found', `No job with id ${id}.`);
    return job;
  }

  cancel(id: string): JobSummary {
    const job = jobsSql.getJob(this.db, id);
    if (!job) throw new DeepenError('not_found', `No job with id ${id}.`);
    const qi = this.queue.indexOf(id);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      this.finish(id, 'cancelled', { error: { code: 'cancelled', message: 'Cancelled before it started.' } });
      return jobsSql.getJob(this.db, id)!;
    }
    const run = this.running.get(id);
    if (run && !run.cancelRequested) {
      run.cancelRequested = true;
      Atomics.store(run.cancelFlag, 0, 1);
      this.appendLog(id, 'warn', 'Cancel requested.');
      // A runner stuck in one long native call cannot look at the flag: stop it.
      run.hardStop = setTimeout(() => {
        if (!run.settled) {
          this.appendLog(id, 'warn', 'The job did not stop in time and was terminated.');
          void run.worker.terminate();
        }
      }, this.opts.cancelGraceMs ?? 10_000);
    }
    return jobsSql.getJob(this.db, id)!;
  }

  delete(id: string): void {
    if (this.running.has(id) || this.queue.includes(id)) {
      throw new DeepenError('conflict', 'This job is still running. Cancel it first, then delete it.');
    }
    if (!jobsSql.deleteJob(this.db, id)) throw new DeepenError('not_found', `No job with id ${id}.`);
  }

  /** Cancels everything and waits for workers to go (engine shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.queue]) this.cancel(id);
    const waits = [...this.running.keys()].map((id) => {
      this.cancel(id);
      return this.done.get(id);
    });
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000))]);
    // Whatever did not stop in time is recorded as cancelled now, while the
    // database is still open, then stopped.
    for (const [id, run] of [...this.running]) {
      this.settle(id, run, 'cancelled', { error: { code: 'cancelled', message: 'Deepen shut down while this job was running.' } });
    }
  }

  private pump(): void {
    const max = this.opts.maxConcurrent ?? 2;
    while (!this.closed && this.running.size < max && this.queue.length) {
      this.launch(this.queue.shift()!);
    }
  }

  private launch(id: string): void {
    const job = jobsSql.getJob(this.db, id)!;
    const cancelBuffer = new SharedArrayBuffer(4);
    const input = this.inputs.get(id);
    const data: JobWorkerData = { jobId: id, kind: job.kind, input, dataDir: this.opts.dataDir, cancelFlag: cancelBuffer };
    this.inputs.delete(id);
    const entry = workerEntry('job-worker', { ...data });
    const worker = new Worker(entry.url, { workerData: entry.workerData });
    let resolveDone!: () => void;
    this.done.set(id, new Promise<void>((r) => (resolveDone = r)));
    const run: Running = { worker, cancelFlag: new Int32Array(cancelBuffer), cancelRequested: false, lastWrite: 0, unwritten: null, settled: false, resolveDone };
    this.running.set(id, run);
    jobsSql.markJobRunning(this.db, id, Date.now());
    this.events.updated(jobsSql.getJob(this.db, id)!);

    worker.on('message', (m: WorkerToHost) => this.onWorkerMessage(id, run, m));
    worker.on('error', (err) => {
      if (run.settled || !this.db.open) return;
      this.settle(id, run, 'failed', { error: toErrorInfo(err) });
    });
    worker.on('exit', (code) => {
      if (run.settled || !this.db.open) return;
      void this.removeLeftovers(id, job.kind, input);
      if (run.cancelRequested) this.settle(id, run, 'cancelled', { error: { code: 'cancelled', message: 'The job was cancelled.' } });
      else
        this.settle(id, run, 'failed', {
          error: { code: 'internal', message: `The job's worker stopped unexpectedly (exit code ${code}). See the job log; if it ran out of memory, try a smaller model or batch.` },
        });
    });
  }

  /** A worker that ended without settling could not clean up after itself: do it for it. */
  private async removeLeftovers(id: string, kind: string, input: unknown): Promise<void> {
    const clean = jobLeftovers[kind];
    if (!clean) return;
    const removed = await clean(input).catch((err: Error) => {
      if (this.db.open) this.appendLog(id, 'warn', `Could not remove what the stopped job left: ${err.message}`);
      return [] as string[];
    });
    if (removed.length && this.db.open) this.appendLog(id, 'info', `Removed what the stopped job left behind: ${removed.join(', ')}`);
  }

  private onWorkerMessage(id: string, run: Running, m: WorkerToHost): void {
    // Messages already queued when the job settled (or the engine closed) arrive late: drop them.
    if (run.settled || !this.db.open) return;
    switch (m.type) {
      case 'progress': {
        const now = Date.now();
        const message = m.message ?? '';
        // Write progress at most 4 times a second, and never wait for a worker holding the write lock; events carry every update.
        if (now - run.lastWrite > 250 && jobsSql.tryUpdateJobProgress(this.db, id, m.fraction, message)) {
          run.lastWrite = now;
          run.unwritten = null;
          this.events.updated(jobsSql.getJob(this.db, id)!);
        } else {
          run.unwritten = { fraction: m.fraction, message };
          this.events.updated({ ...jobsSql.getJob(this.db, id)!, progress: m.fraction, message });
        }
        break;
      }
      case 'log':
        this.appendLog(id, m.level, m.text);
        break;
      case 'metric':
        this.events.metric(id, m.name, m.value, m.step);
        break;
      case 'done':
        this.settle(id, run, 'succeeded', { result: m.result, progress: 1 });
        break;
      case 'failed': {
        const error = m.error as ErrorInfo;
        this.settle(id, run, error.code === 'cancelled' || run.cancelRequested ? 'cancelled' : 'failed', { error });
        break;
      }
    }
  }

  private settle(id: string, run: Running, state: 'succeeded' | 'failed' | 'cancelled', fin: { result?: unknown; error?: ErrorInfo; progress?: number }): void {
    run.settled = true;
    if (run.hardStop) clearTimeout(run.hardStop);
    if (run.unwritten && state !== 'succeeded') jobsSql.updateJobProgress(this.db, id, run.unwritten.fraction, run.unwritten.message);
    if (fin.error) this.appendLog(id, state === 'cancelled' ? 'warn' : 'error', fin.error.message);
    this.finish(id, state, fin);
    this.running.delete(id);
    void run.worker.terminate();
    run.resolveDone();
    this.pump();
  }

  private finish(id: string, state: 'succeeded' | 'failed' | 'cancelled', fin: { result?: unknown; error?: ErrorInfo; progress?: number }): void {
    jobsSql.finishJob(this.db, id, {
      state,
      at: Date.now(),
      result: fin.result,
      error: fin.error ?? null,
      progress: fin.progress,
      message: state === 'succeeded' ? 'Done' : state === 'cancelled' ? 'Cancelled' : 'Failed',
    });
    this.logCounts.delete(id);
    const job = jobsSql.getJob(this.db, id)!;
    this.events.updated(job);
    if (!this.done.has(id)) this.done.set(id, Promise.resolve());
    if (this.closed) return;
    for (const listener of this.settledListeners) {
      try {
        listener(job, fin.result);
      } catch (err) {
        this.appendLog(id, 'warn', `What follows this job could not start: ${(err as Error).message}`);
      }
    }
  }

  private appendLog(id: string, level: 'info' | 'warn' | 'error', text: string): void {
    const n = (this.logCounts.get(id) ?? 0) + 1;
    this.logCounts.set(id, n);
    if (n > MAX_LOG_LINES_PER_JOB) return;
    const body = n === MAX_LOG_LINES_PER_JOB ? `(log truncated after ${MAX_LOG_LINES_PER_JOB} lines)` : text.slice(0, 10_000);
    const line = jobsSql.appendJobLog(this.db, id, { time: Date.now(), level, text: body });
    this.events.log(id, line);
  }
}
