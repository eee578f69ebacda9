// The `expand` job: plan (or take the given plan), write the expanded model,
// check it structurally, and return what the host needs to register it with
// its lineage. Runs inside a job worker; progress, logs and cancellation go
// through the JobContext.
import fs from 'node:fs/promises';
import { DeepenError } from '../../shared/errors';
import type { JobContext } from '../host/jobs/job-types';
import { openCheckpoint } from './checkpoint';
import { planExpansion, type ExpandStrategy, type ExpansionPlan } from './expand-plan';
import { verifyExpansion, type VerifyReport } from './expand-verify';
import { expandCheckpoint } from './expand-writer';
import { summarizeCheckpoint, type CheckpointSummary } from './summary';

export interface ExpandJobInput {
  baseDir: string;
  outDir: string;
  /** a plan made earlier (e.g. on the Expand page); otherwise made here from strategy/add/… */
  plan?: ExpansionPlan;
  strategy?: ExpandStrategy;
  add?: number;
  copiesPerGroup?: number;
  positions?: number[];
  maxShardBytes?: number;
  /** run the structural check after writing (default true) */
  verify?: boolean;
}

export interface ExpandJobResult {
  baseDir: string;
  outDir: string;
  plan: ExpansionPlan;
  newDepth: number;
  newBlockIndices: number[];
  files: string[];
  zeroed: string[];
  bytesWritten: number;
  seconds: number;
  /** null when verify was off */
  verify: VerifyReport | null;
  /** the expanded model, ready to register */
  summary: CheckpointSummary;
  warnings: string[];
}

export async function runExpandJob(input: ExpandJobInput, ctx: JobContext): Promise<ExpandJobResult> {
  if (!input?.baseDir || !input?.outDir) throw new DeepenError('bad_request', 'An expansion needs baseDir (the model to expand) and outDir (a new folder for the result).');
  const verify = input.verify !== false;
  const writeShare = verify ? 0.7 : 1;
  const base = await openCheckpoint(input.baseDir);
  try {
    for (const w of base.warnings) ctx.log(w, 'warn');
    const plan =
      input.plan ??
      planExpansion(base.config.numLayers, {
        strategy: input.strategy ?? 'interleaved',
        add: input.add,
        copiesPerGroup: input.copiesPerGroup,
        positions: input.positions,
      });
    ctx.log(plan.description);
    for (const w of plan.warnings) ctx.log(w, 'warn');
    ctx.throwIfCancelled();

    let lastReport = 0;
    const result = await expandCheckpoint(base, input.outDir, plan, {
      maxShardBytes: input.maxShardBytes,
      isCancelled: () => ctx.isCancelled(),
      onProgress: (done, total, tensor) => {
        // a message per tensor chunk is plenty; the host throttles writes anyway
        if (done !== total && Date.now() - lastReport < 100) return;
        lastReport = Date.now();
        ctx.progress(total ? (done / total) * writeShare : writeShare, `writing ${tensor}`);
      },
    });
    ctx.log(`Wrote ${result.tensors.length} tensors (${(result.bytesWritten / 2 ** 20).toFixed(1)} MiB) in ${result.seconds.toFixed(1)} s; zeroed ${result.zeroed.length}.`);

    let report: VerifyReport | null = null;
    if (verify) {
      try {
        report = await verifyExpansion(base, result.outDir, {
          plan: result.plan,
          isCancelled: () => ctx.isCancelled(),
          onProgress: (done, total, tensor) => ctx.progress(writeShare + (total ? done / total : 1) * (1 - writeShare), `checking ${tensor}`),
        });
      } catch (err) {
        await fs.rm(result.outDir, { recursive: true, force: true });
        throw err;
      }
      if (!report.ok) {
        // A model that fails the check must not be left where it looks finished.
        await fs.rm(result.outDir, { recursive: true, force: true });
        throw new DeepenError('internal', `The written model failed its structural check and was removed: ${report.problems.slice(0, 3).join('; ')}.`, { problems: report.problems });
      }
      ctx.log(`Check passed: ${report.tensorsCopied} tensors equal their source, ${report.tensorsZeroed} are zero, config consistent.`);
    }

    const out = await openCheckpoint(result.outDir);
    let summary: CheckpointSummary;
    try {
      summary = await summarizeCheckpoint(out);
    } finally {
      await out.close();
    }
    ctx.progress(1, 'done');
    return {
      baseDir: base.dir,
      outDir: result.outDir,
      plan: result.plan,
      newDepth: result.plan.newDepth,
      newBlockIndices: result.plan.newBlockIndices,
      files: result.files,
      zeroed: result.zeroed,
      bytesWritten: result.bytesWritten,
      seconds: result.seconds,
      verify: report,
      summary,
      warnings: result.warnings,
    };
  } finally {
    await base.close();
  }
}
