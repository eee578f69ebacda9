import { DeepenError } from '../../../shared/errors';
import type { JobState } from '../../../shared/contract/jobs';
import { intOption, stringOption, table, UsageError, type Command } from '../command';

const states: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list jobs, or show one with its log',
  help: `Usage: deepen jobs [--json] [--limit N] [--state STATE]
       deepen jobs show <id> [--json]

Jobs are the long tasks (expand, import, train, self-test) recorded in the
database, whichever face started them.

  --limit N      at most N jobs, newest first (default 50)
  --state STATE  only jobs in this state (${states.join(', ')})
  --json         print one JSON object`,
  options: { json: { type: 'boolean' }, limit: { type: 'string' }, state: { type: 'string' } },
  positionals: true,
  async run(ctx) {
    const host = ctx.host();
    const [sub, id] = ctx.positionals;
    if (sub === 'show') {
      if (!id) throw new UsageError('deepen jobs show needs a job id.');
      const job = await host.call('jobs.get', { id });
      if (ctx.json) return void ctx.printJson(job);
      ctx.say(table([['id', job.id], ['kind', job.kind], ['title', job.title], ['state', job.state], ['progress', `${Math.round(job.progress * 100)}%`], ['message', job.message], ...(job.error ? [['error', job.error.message]] : [])]));
      if (job.logs.length) ctx.say('\n' + job.logs.map((l) => `${new Date(l.time).toISOString()} ${l.level.padEnd(5)} ${l.text}`).join('\n'));
      return;
    }
    if (sub) throw new UsageError(`Unknown jobs subcommand "${sub}".`);
    const state = stringOption(ctx.values, 'state');
    if (state && !states.includes(state as JobState)) throw new DeepenError('bad_request', `Unknown state "${state}". Use one of ${states.join(', ')}.`);
    const jobs = await host.call('jobs.list', { limit: intOption(ctx.values, 'limit', 50), states: state ? [state as JobState] : undefined });
    if (ctx.json) return void ctx.printJson({ jobs });
    if (!jobs.length) return void ctx.say('No jobs yet.');
    ctx.say(
      table(
        jobs.map((j) => [j.id.slice(0, 8), j.kind, j.state, `${Math.round(j.progress * 100)}%`, new Date(j.createdAt).toLocaleString(), j.title]),
        ['id', 'kind', 'state', 'progress', 'created', 'title'],
      ),
    );
  },
};
