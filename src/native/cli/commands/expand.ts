// `deepen expand <dir> --out <dir> --add N`: grow a model by block expansion.
// Runs as an `expand` job in the engine host when that job kind is registered
// (so it is recorded like any job), otherwise in this process; either way with
// a progress bar, Ctrl-C cancelling cleanly, and no partial output on failure.
import { DeepenError } from '../../../shared/errors';
import { openCheckpoint } from '../../checkpoint/checkpoint';
import { runExpandJob, type ExpandJobInput, type ExpandJobResult } from '../../checkpoint/expand-job';
import { expandStrategies, planExpansion, type ExpandStrategy, type ExpansionPlan } from '../../checkpoint/expand-plan';
import { formatBytes } from '../../checkpoint/summary';
import { cancelledError, type JobContext } from '../../host/jobs/job-types';
import { isJobKind } from '../../host/jobs/registry';
import { intOption, stringOption, table, UsageError, type Command, type CommandContext } from '../command';
import { followJob } from '../progress';

/** "5GB", "500MB", "1.5GiB" or plain bytes → bytes (decimal units as HF's max_shard_size). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`"${text}" is not a size; write e.g. 5GB, 500MB or a number of bytes.`);
  const unit = (m[2] ?? 'B').toUpperCase().replace(/B$/, '');
  const powers: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, KI: 2 ** 10, MI: 2 ** 20, GI: 2 ** 30, TI: 2 ** 40 };
  const bytes = Math.floor(Number(m[1]) * powers[unit]);
  if (!(bytes > 0)) throw new UsageError(`The size "${text}" must be more than zero.`);
  return bytes;
}

export function parsePositions(text: string): number[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const out = parts.map((p) => Number(p));
  if (!parts.length || out.some((n) => !Number.isInteger(n))) throw new UsageError(`--positions takes block indices like "3,7,11" (-1 for below block 0), got "${text}".`);
  return out;
}

function planRows(plan: ExpansionPlan): string[][] {
  return plan.layers.filter((l) => l.isNew).map((l) => [String(l.index), `copy of block ${l.source}`, 'o_proj, down_proj zeroed']);
}

/** A JobContext for running the job in this process: progress bar and Ctrl-C. */
function localContext(ctx: CommandContext): { job: JobContext; dispose(): void } {
  let cancelled = false;
  let last = '';
  const onSigint = () => {
    if (cancelled) process.exit(130);
    cancelled = true;
    process.stderr.write('\nCancelling… (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  const job: JobContext = {
    jobId: 'cli',
    dataDir: '',
    progress(fraction, message) {
      if (ctx.json || !ctx.isTTY) return;
      const width = 30;
      const filled = Math.round(fraction * width);
      const text = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${message ?? ''}`.slice(0, (process.stderr.columns || 100) - 1);
      if (text !== last) process.stderr.write(`\r\x1b[K${text}`);
      last = text;
    },
    log(text, level = 'info') {
      if (last) process.stderr.write('\r\x1b[K');
      last = '';
      if (level !== 'info' || !ctx.json) ctx.warn(level === 'info' ? text : `${level}: ${text}`);
    },
    metric() {},
    isCancelled: () => cancelled,
    throwIfCancelled() {
      if (cancelled) throw cancelledError('The expansion');
    },
  };
  return {
    job,
    dispose() {
      if (last) process.stderr.write('\r\x1b[K');
      process.off('SIGINT', onSigint);
    },
  };
}

export const expandCommand: Command = {
  name: 'expand',
  summary: 'grow a model by block expansion (LLaMA Pro): add identity-initialised blocks',
  help: `Usage: deepen expand <model-folder> --out <new-folder> --add N [options]

Writes a new model folder with N added decoder blocks. Each new block copies
an existing one with o_proj and down_proj set to zero, so the expanded model
computes exactly what the base model did until it is trained. Every dtype is
kept as is; config.json, tokenizer, generation config and chat template are
carried over; deepen_expansion.json records the plan.

  --out DIR             the new model folder (must not exist)
  --add N               blocks to add
  --strategy S          ${expandStrategies.join(' | ')} (default interleaved: N groups,
                        a copy of each group's last block after it, as in the paper)
  --copies-per-group P  interleaved: P copies after each of N/P groups (default 1)
  --positions LIST      custom: old block indices to put a copy after, e.g. 3,7,11
                        (-1 = below block 0)
  --shard-size SIZE     largest output shard (default 5GB)
  --dry-run             print the plan, write nothing
  --no-verify           skip the byte-by-byte check after writing
  --json                print one JSON object: the plan and new block indices`,
  options: {
    json: { type: 'boolean' },
    out: { type: 'string' },
    add: { type: 'string' },
    strategy: { type: 'string' },
    'copies-per-group': { type: 'string' },
    positions: { type: 'string', multiple: true },
    'shard-size': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'no-verify': { type: 'boolean' },
  },
  positionals: true,
  async run(ctx) {
    const [baseDir, extra] = ctx.positionals;
    if (!baseDir || extra) throw new UsageError('deepen expand takes exactly one model folder.');
    const strategy = (stringOption(ctx.values, 'strategy') ?? 'interleaved') as ExpandStrategy;
    if (!expandStrategies.includes(strategy)) throw new UsageError(`--strategy must be one of ${expandStrategies.join(', ')}.`);
    const rawPositions = ctx.values.positions;
    const positions = Array.isArray(rawPositions) ? rawPositions.flatMap((p) => parsePositions(String(p))) : undefined;
    const add = intOption(ctx.values, 'add');
    if (strategy === 'custom' ? !positions : add === undefined) throw new UsageError(strategy === 'custom' ? '--strategy custom needs --positions.' : '--add N is required.');
    const shard = stringOption(ctx.values, 'shard-size');
    const dryRun = ctx.values['dry-run'] === true;
    const outDir = stringOption(ctx.values, 'out');
    if (!outDir && !dryRun) throw new UsageError('--out <new-folder> is required.');

    // Plan here first: a bad request fails before any job starts, and --dry-run needs nothing else.
    const base = await openCheckpoint(baseDir);
    let plan: ExpansionPlan;
    try {
      plan = planExpansion(base.config.numLayers, { strategy, add, copiesPerGroup: intOption(ctx.values, 'copies-per-group'), positions });
    } finally {
      await base.close();
    }
    for (const w of plan.warnings) ctx.warn(`warning: ${w}`);
    if (dryRun) {
      if (ctx.json) return void ctx.printJson({ dryRun: true, plan, new_block_indices: plan.newBlockIndices, num_hidden_layers: plan.newDepth });
      ctx.say(plan.description);
      ctx.say(table(planRows(plan), ['new index', 'source', 'init']));
      return;
    }

    const input: ExpandJobInput = { baseDir: base.dir, outDir: outDir!, plan, maxShardBytes: shard ? parseSize(shard) : undefined, verify: ctx.values['no-verify'] !== true };
    let result: ExpandJobResult;
    if (isJobKind('expand')) {
      const host = ctx.host();
      const job = host.jobs.start('expand', `Expand ${base.dir} → ${outDir}`, input);
      await followJob(host, job.id, { quiet: ctx.json, isTTY: ctx.isTTY });
      result = (await host.call('jobs.get', { id: job.id })).result as ExpandJobResult;
      if (!result) throw new DeepenError('internal', `The expand job ${job.id} finished without a result.`);
    } else {
      const local = localContext(ctx);
      try {
        result = await runExpandJob(input, local.job);
      } finally {
        local.dispose();
      }
    }

    if (ctx.json) {
      return void ctx.printJson({
        out: result.outDir,
        plan: result.plan,
        new_block_indices: result.newBlockIndices,
        num_hidden_layers: result.newDepth,
        params_total: result.summary.paramsTotal,
        bytes_written: result.bytesWritten,
        seconds: result.seconds,
        verified: result.verify?.ok ?? null,
        files: result.files,
      });
    }
    ctx.say(result.plan.description);
    ctx.say(table(planRows(result.plan), ['new index', 'source', 'init']));
    ctx.say(`\nWrote ${result.outDir} (${formatBytes(result.bytesWritten)} of weights in ${result.seconds.toFixed(1)} s${result.verify ? `; checked: ${result.verify.tensorsCopied} tensors equal their source, ${result.verify.tensorsZeroed} zero` : ''}).`);
  },
};
