// How a job's timing and state read in the UI.
import type { JobState, JobSummary } from '@shared/contract';

/** How long the job ran (or has been running, given `now`); null while queued. */
export function jobDurationMs(job: Pick<JobSummary, 'startedAt' | 'finishedAt' | 'createdAt'>, now: number): number | null {
  if (job.startedAt === null) return job.finishedAt !== null ? 0 : null;
  return (job.finishedAt ?? now) - job.startedAt;
}

/** The heading above a finished job's error. */
export function errorHeading(state: JobState): string {
  switch (state) {
    case 'failed':
      return 'This job failed';
    case 'cancelled':
      return 'This job was cancelled';
    case 'interrupted':
      return 'This job was interrupted';
    default:
      return 'Problem';
  }
}

export function progressTone(state: JobState): 'accent' | 'ok' | 'danger' | 'neutral' {
  if (state === 'succeeded') return 'ok';
  if (state === 'failed') return 'danger';
  if (state === 'cancelled' || state === 'interrupted') return 'neutral';
  return 'accent';
}
