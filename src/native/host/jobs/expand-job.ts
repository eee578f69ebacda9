// The `expand` job as the app runs it: the checkpoint engine's runExpandJob
// (write + structural check), then the numerical function-preservation check
// (expanded logits must equal the base model's), then the result registered
// in the model registry as a child of its base, with the plan and the check's
// max |Δlogit| — so the Models page can show the lineage and the proof.
//
// Registration happens here, in the worker, on its own database connection:
// the job must leave a registered model even if the window that started it
// has closed. A failed registration does not throw away a good model folder;
// it is logged and the user can add the folder by hand.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExpandJobOutcome, PreservationCheck } from '../../../shared/contract/models';
import { toErrorInfo } from '../../../shared/errors';
import { runExpandJob, type ExpandJobInput, type ExpandJobResult } from '../../checkpoint/expand-job';
import { openDatabase } from '../../data/db';
import { getModel, getModelByPath, insertModel } from '../../data/models';
import { databaseFileIn } from '../paths';
import { cancelledError, type JobContext } from './job-types';

export interface ExpandModelJobInput extends ExpandJobInput {
  /** registry id of the base model (the CLI may leave it out: then found by path) */
  parentId?: string;
  /** registry name of the result (default: the folder name) */
  name?: string;
  /** register the result (default true) */
  register?: boolean;
}

export type ExpandModelJobResult = ExpandJobResult & { modelId: string | null; preservation: PreservationCheck };
// The renderer reads the job result as ExpandJobOutcome: keep the two in step.
const _outcomeShape = (r: ExpandModelJobResult): ExpandJobOutcome => r;
void _outcomeShape;

/** Share of the progress bar taken by writing + the structural check. */
const WRITE_SHARE = 0.85;

/** |Δlogit| above this means the copies are not identities (fp32 rounding over many blocks stays far below). */
export const PRESERVATION_TOLERANCE = 1e-3;
/** The check holds one fp32 copy of a model at a time; skip it when that would not fit comfortably. */
const MEMORY_SHARE_FOR_CHECK = 0.6;

export async function runExpandModelJob(input: ExpandModelJobInput, ctx: JobContext): Promise<ExpandModelJobResult> {
  const scaled: JobContext = { ...ctx, progress: (f, m) => ctx.progress(f * WRITE_SHARE, m) };
  const result = await runExpandJob(input, scaled);

  ctx.progress(WRITE_SHARE, 'checking that the expanded model computes what the base model did');
  const preservation = await checkPreservation(result.baseDir, result.outDir, result.summary.paramsTotal, ctx);
  const level = preservation.state === 'failed' ? 'error' : preservation.state === 'passed' ? 'info' : 'warn';
  ctx.log(preservation.message, level);

  let modelId: string | null = null;
  if (input.register !== false && ctx.dataDir) {
    ctx.progress(0.98, 'registering the expanded model');
    modelId = register(input, result, preservation, ctx);
  }
  ctx.progress(1, 'done');
  return { ...result, modelId, preservation };
}

/**
 * The numerical check: base and expanded model run on the same token ids
 * (fp32, CPU) and the largest logit difference is kept. Its ONNX weights go
 * to a private cache folder removed afterwards — for a large model they are
 * two fp32 copies nobody asked to keep. A machine without the memory for an
 * fp32 copy, or a check that cannot run, leaves the model registered with
 * the check marked unavailable and the reason.
 */
async function checkPreservation(baseDir: string, outDir: string, paramsTotal: number, ctx: JobContext): Promise<PreservationCheck> {
  const needBytes = paramsTotal * 4;
  if (needBytes > os.totalmem() * MEMORY_SHARE_FOR_CHECK) {
    return {
      state: 'unavailable',
      maxAbsDiff: null,
      tolerance: PRESERVATION_TOLERANCE,
      message: `The numerical check was skipped: it runs the model in fp32 (${(needBytes / 2 ** 30).toFixed(1)} GiB) and this machine has ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB of memory. The structural check passed.`,
      checkedAt: null,
    };
  }
  const cacheDir = path.join(ctx.dataDir || os.tmpdir(), 'cache', `preservation-${ctx.jobId}`);
  try {
    const { functionPreservationCheck } = await import('../../model/function-preservation');
    const r = await functionPreservationCheck(baseDir, outDir, { provider: 'cpu', cacheDir, throwawayCache: true, tolerance: PRESERVATION_TOLERANCE });
    ctx.metric('max_abs_dlogit', r.maxAbsDiff);
    const figures = `max |Δlogit| = ${r.maxAbsDiff.toExponential(2)} over ${r.positions} positions (mean ${r.meanAbsDiff.toExponential(2)}, top token agrees at ${(r.argmaxAgreement * 100).toFixed(0)}%)`;
    return {
      state: r.ok ? 'passed' : 'failed',
      maxAbsDiff: r.maxAbsDiff,
      tolerance: r.tolerance,
      message: r.ok
        ? `Function preserved: ${figures}.`
        : `The expanded model does not compute what the base did: ${figures}, above the tolerance ${r.tolerance}. Its new blocks may not be identities; do not train from it before finding out why (see the job log).`,
      checkedAt: Date.now(),
    };
  } catch (err) {
    if (ctx.isCancelled()) {
      // A cancel is a cancel: the written model goes too, as when writing is cancelled.
      await fs.rm(outDir, { recursive: true, force: true });
      throw cancelledError('The expansion');
    }
    return {
      state: 'unavailable',
      maxAbsDiff: null,
      tolerance: PRESERVATION_TOLERANCE,
      message: `The numerical check could not run: ${toErrorInfo(err).message} The structural check passed.`,
      checkedAt: null,
    };
  } finally {
    await fs.rm(cacheDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function register(input: ExpandModelJobInput, result: ExpandJobResult, preservation: PreservationCheck, ctx: JobContext): string | null {
  let db: ReturnType<typeof openDatabase> | null = null;
  try {
    db = openDatabase(databaseFileIn(ctx.dataDir));
    const parent = (input.parentId ? getModel(db, input.parentId) : null) ?? getModelByPath(db, result.baseDir);
    const record = insertModel(db, {
      name: input.name?.trim() || path.basename(result.outDir),
      path: result.outDir,
      summary: result.summary,
      kind: 'expanded',
      parentId: parent?.id ?? null,
      plan: result.plan,
      // The parent's name and folder are kept here too: the tree still reads after the parent is removed.
      origin: {
        jobId: ctx.jobId,
        parentName: parent?.name ?? path.basename(result.baseDir),
        parentPath: result.baseDir,
        preservation,
        structural: result.verify ? { ok: result.verify.ok, tensorsCopied: result.verify.tensorsCopied, tensorsZeroed: result.verify.tensorsZeroed } : null,
      },
    });
    ctx.log(`Registered "${record.name}" (${record.id})${parent ? `, expanded from "${parent.name}"` : ''}.`);
    return record.id;
  } catch (err) {
    ctx.log(`The model was written to ${result.outDir} but could not be registered: ${toErrorInfo(err).message} Add the folder on the Models page.`, 'warn');
    return null;
  } finally {
    db?.close();
  }
}
