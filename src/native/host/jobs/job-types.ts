// What a job runner sees. Runners execute inside a worker thread; the
// context forwards progress, logs and metrics to the host, and exposes
// cancellation through a shared flag, so that even a runner that spends
// seconds in synchronous native calls (InferenceSession.run) notices a
// cancel between two calls.
import { DeepenError } from '../../../shared/errors';

export type LogLevel = 'info' | 'warn' | 'error';

export interface JobContext {
  readonly jobId: string;
  readonly dataDir: string;
  /** fraction in 0..1; message says what the job is doing now */
  progress(fraction: number, message?: string): void;
  log(text: string, level?: LogLevel): void;
  metric(name: string, value: number, step?: number): void;
  isCancelled(): boolean;
  /** throws DeepenError('cancelled') once the user cancelled */
  throwIfCancelled(): void;
}

export type JobRunner<I = unknown, O = unknown> = (input: I, ctx: JobContext) => Promise<O> | O;

export function cancelledError(what = 'The job'): DeepenError {
  return new DeepenError('cancelled', `${what} was cancelled. Nothing was left half-written.`);
}

/** Messages from a job worker to the host. */
export type WorkerToHost =
  | { type: 'progress'; fraction: number; message?: string }
  | { type: 'log'; level: LogLevel; text: string }
  | { type: 'metric'; name: string; value: number; step?: number }
  | { type: 'done'; result: unknown }
  | { type: 'failed'; error: { code: string; message: string; details?: Record<string, unknown> } };

export interface JobWorkerData {
  jobId: string;
  kind: string;
  input: unknown;
  dataDir: string;
  /** Int32Array(1) over a SharedArrayBuffer: 1 once cancelled */
  cancelFlag: SharedArrayBuffer;
}
