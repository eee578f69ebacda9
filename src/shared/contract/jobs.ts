import { event, method } from './define';
import type { ErrorInfo } from '../errors';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export const finishedJobStates: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export interface JobSummary {
  id: string;
  kind: string;
  title: string;
  state: JobState;
  /** 0..1 */
  progress: number;
  /** what the job is doing now, e.g. "writing model.layers.12.mlp.up_proj.weight" */
  message: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: ErrorInfo | null;
}

export interface JobLogLine {
  seq: number;
  time: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface JobDetail extends JobSummary {
  input: unknown;
  result: unknown;
  logs: JobLogLine[];
}

export interface JobStarted {
  jobId: string;
}

export const jobMethods = {
  'jobs.list': method<{ limit?: number; states?: JobState[] }, JobSummary[]>(),
  'jobs.get': method<{ id: string }, JobDetail>(),
  'jobs.cancel': method<{ id: string }, JobSummary>(),
  'jobs.delete': method<{ id: string }, void>(),
};

export const jobEvents = {
  'job.updated': event<JobSummary>(),
  'job.log': event<{ jobId: string; line: JobLogLine }>(),
  'job.metric': event<{ jobId: string; name: string; value: number; step?: number }>(),
};
