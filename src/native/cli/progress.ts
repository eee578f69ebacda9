// A one-line progress bar on stderr for jobs run from the CLI.
import type { EngineHost } from '../host/host';
import type { JobSummary } from '../../shared/contract/jobs';
import { DeepenError } from '../../shared/errors';

export async function followJob(host: EngineHost, jobId: string, opts: { quiet: boolean; isTTY: boolean }): Promise<JobSummary> {
  let last = '';
  const draw = (job: JobSummary) => {
    if (opts.quiet || !opts.isTTY) return;
    const width = 30;
    const filled = Math.round(job.progress * width);
    const text = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(job.progress * 100).toFixed(0).padStart(3)}% ${job.message}`.slice(0, (process.stderr.columns || 100) - 1);
    if (text !== last) process.stderr.write(`\r\x1b[K${text}`);
    last = text;
  };
  const off = host.onEvent((event, payload) => {
    if (event === 'job.updated' && (payload as JobSummary).id === jobId) draw(payload as JobSummary);
    if (event === 'job.log' && !opts.quiet && !opts.isTTY) {
      const p = payload as { jobId: string; line: { text: string; level: string } };
      // the job's final error is what the command prints as its one-line message
      if (p.jobId === jobId && p.line.level !== 'error') process.stderr.write(`${p.line.text}\n`);
    }
  });
  // Ctrl-C cancels the job cleanly instead of killing the process mid-write.
  const onSigint = () => {
    process.stderr.write('\nCancelling…\n');
    host.jobs.cancel(jobId);
  };
  process.on('SIGINT', onSigint);
  try {
    const job = await host.jobs.wait(jobId);
    if (last) process.stderr.write('\r\x1b[K');
    if (job.state !== 'succeeded') throw new DeepenError(job.error?.code ?? 'internal', job.error?.message ?? `The job ended as ${job.state}.`);
    return job;
  } finally {
    off();
    process.off('SIGINT', onSigint);
  }
}
