// SQL for jobs and their logs. Every query takes the database first and binds
// its parameters.
import type { Db } from './db';
import type { ErrorInfo } from '../../shared/errors';
import type { JobDetail, JobLogLine, JobState, JobSummary } from '../../shared/contract/jobs';

interface JobRow {
  id: string;
  kind: string;
  title: string;
  state: JobState;
  progress: number;
  message: string;
  input: string;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

const toSummary = (r: JobRow): JobSummary => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  state: r.state,
  progress: r.progress,
  message: r.message,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  error: r.error ? (JSON.parse(r.error) as ErrorInfo) : null,
});

export function insertJob(db: Db, job: { id: string; kind: string; title: string; input: unknown; createdAt: number }): void {
  db.prepare(`INSERT INTO jobs (id, kind, title, state, input, created_at) VALUES (?, ?, ?, 'queued', ?, ?)`).run(
    job.id,
    job.kind,
    job.title,
    JSON.stringify(job.input ?? {}),
    job.createdAt,
  );
}

export function getJob(db: Db, id: string): JobSummary | null {
  const row = db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
  return row ? toSummary(row) : null;
}

export function getJobDetail(db: Db, id: string, logLimit = 2000): JobDetail | null {
  const row = db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
  if (!row) return null;
  const logs = (
    db.prepare(`SELECT seq, time, level, text FROM job_logs WHERE job_id = ? ORDER BY seq DESC LIMIT ?`).all(id, logLimit) as JobLogLine[]
  ).reverse();
  return {
    ...toSummary(row),
    input: JSON.parse(row.input),
    result: row.result === null ? null : JSON.parse(row.result),
    logs,
  };
}

export function listJobs(db: Db, opts: { limit?: number; states?: JobState[] } = {}): JobSummary[] {
  const limit = Math.max(1, Math.min(opts.limit ?? 200, 10_000));
  if (opts.states?.length) {
    const marks = opts.states.map(() => '?').join(',');
    return (db.prepare(`SELECT * FROM jobs WHERE state IN (${marks}) ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(...opts.states, limit) as JobRow[]).map(toSummary);
  }
  return (db.prepare(`SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(limit) as JobRow[]).map(toSummary);
}

export function markJobRunning(db: Db, id: string, at: number): void {
  db.prepare(`UPDATE jobs SET state = 'running', started_at = ? WHERE id = ?`).run(at, id);
}

export function updateJobProgress(db: Db, id: string, progress: number, message: string): void {
  db.prepare(`UPDATE jobs SET progress = ?, message = ? WHERE id = ?`).run(progress, message, id);
}

/**
 * The same, but only if the database is free this instant: returns false
 * instead of waiting while a job's worker holds the write lock (a bulk
 * transaction can last a few hundred milliseconds, and the engine's thread
 * must keep answering). The row is only a record of progress: events carry
 * every update, and the next update or the job's end writes it.
 */
export function tryUpdateJobProgress(db: Db, id: string, progress: number, message: string): boolean {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    updateJobProgress(db, id, progress, message);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw err;
  } finally {
    db.pragma(`busy_timeout = ${timeout | 0}`);
  }
}

export function finishJob(
  db: Db,
  id: string,
  fin: { state: Exclude<JobState, 'queued' | 'running'>; at: number; result?: unknown; error?: ErrorInfo | null; progress?: number; message?: string },
): void {
  db.prepare(
    `UPDATE jobs SET state = ?, finished_at = ?, result = ?, error = ?, progress = COALESCE(?, progress), message = COALESCE(?, message) WHERE id = ?`,
  ).run(
    fin.state,
    fin.at,
    fin.result === undefined ? null : JSON.stringify(fin.result),
    fin.error ? JSON.stringify(fin.error) : null,
    fin.progress ?? null,
    fin.message ?? null,
    id,
  );
}

/** Jobs left queued or running by a process that died: they did not finish. */
export function markAbandonedJobsInterrupted(db: Db, at: number): number {
  const error: ErrorInfo = {
    code: 'cancelled',
    message: 'Deepen stopped while this job was running. Its output was not kept; start it again.',
  };
  return db
    .prepare(`UPDATE jobs SET state = 'interrupted', finished_at = ?, error = ? WHERE state IN ('queued', 'running')`)
    .run(at, JSON.stringify(error)).changes;
}

export function appendJobLog(db: Db, jobId: string, line: Omit<JobLogLine, 'seq'>): JobLogLine {
  const seq = ((db.prepare(`SELECT MAX(seq) AS s FROM job_logs WHERE job_id = ?`).get(jobId) as { s: number | null }).s ?? 0) + 1;
  db.prepare(`INSERT INTO job_logs (job_id, seq, time, level, text) VALUES (?, ?, ?, ?, ?)`).run(jobId, seq, line.time, line.level, line.text);
  return { seq, ...line };
}

export function deleteJob(db: Db, id: string): boolean {
  return db.prepare(`DELETE FROM jobs WHERE id = ?`).run(id).changes > 0;
}
