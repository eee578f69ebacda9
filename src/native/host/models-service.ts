// Pure helpers behind the models handlers: turning the Expand page's request
// into the planner's, and the figures shown beside the block diagram (depth,
// parameters, disk size, and what a training run of the new blocks would
// need in memory, with the formula in words so the user can check it).
import { DeepenError } from '../../shared/errors';
import type { ExpansionPlan, MemoryEstimate, ModelSummary, PlanFigures, PlanParams, TrainPrecision } from '../../shared/contract/models';
import type { PlanRequest } from '../checkpoint/expand-plan';

export const DEFAULT_SEQ_LEN = 2048;
export const DEFAULT_BATCH = 1;
const precisions: TrainPrecision[] = ['bf16', 'fp16', 'fp32'];
const bytesPer: Record<TrainPrecision, number> = { fp32: 4, bf16: 2, fp16: 2 };

/** PlanParams (groups × copies, as the presets speak) → the planner's request (add, copiesPerGroup). */
export function toPlanRequest(p: PlanParams): PlanRequest {
  const copies = p.copies ?? 1;
  if (p.strategy === 'interleaved' && p.add === undefined && p.groups !== undefined) {
    if (!Number.isSafeInteger(p.groups) || p.groups < 1) throw new DeepenError('bad_request', `groups must be an integer ≥ 1, got ${JSON.stringify(p.groups)}.`, { field: 'groups' });
    return { strategy: 'interleaved', add: p.groups * copies, copiesPerGroup: copies };
  }
  return { strategy: p.strategy, add: p.add, copiesPerGroup: copies, positions: p.positions, insertions: p.insertions };
}

export function precisionOfDtype(dtype: string): TrainPrecision | null {
  if (dtype === 'bfloat16') return 'bf16';
  if (dtype === 'float16') return 'fp16';
  if (dtype === 'float32') return 'fp32';
  return null;
}

export interface BlockProfile {
  /** bytes on disk of each old block's tensors */
  blockBytes: number[];
}

/**
 * Figures of a plan. Memory (training the new blocks only, AdamW):
 *   weights     all parameters of the expanded model in the run precision
 *   gradients   trainable parameters in the run precision
 *   AdamW m, v  trainable parameters × 2 × 4 bytes (fp32 state)
 *   master      trainable parameters × 4 bytes when the run is bf16/fp16
 *   activations a rough term (see `assumptions`): stored for the blocks from
 *               the lowest new block up (backpropagation stops there) plus
 *               the logits and their gradient in fp32.
 */
export function planFigures(summary: ModelSummary, profile: BlockProfile, plan: ExpansionPlan, opts: { seqLen?: number; batch?: number } = {}): PlanFigures {
  // A tiny model's context may be shorter than the default sequence.
  const seqLen = positiveInt(opts.seqLen, Math.min(DEFAULT_SEQ_LEN, summary.maxPositionEmbeddings || DEFAULT_SEQ_LEN), 'seqLen');
  const batch = positiveInt(opts.batch, DEFAULT_BATCH, 'batch');
  const paramsTrainable = plan.insertions.reduce((s, i) => s + (summary.blockParams[i.source] ?? summary.paramsPerBlock), 0);
  const addedBytes = plan.insertions.reduce((s, i) => s + (profile.blockBytes[i.source] ?? 0), 0);
  const paramsTotal = summary.paramsTotal + paramsTrainable;
  const lowestNew = plan.newBlockIndices.length ? Math.min(...plan.newBlockIndices) : plan.newDepth;
  const blocksWithActivations = plan.newDepth - lowestNew;
  const tokens = batch * seqLen;

  const memory: MemoryEstimate[] = precisions.map((precision) => {
    const b = bytesPer[precision];
    const weightsBytes = paramsTotal * b;
    const gradientsBytes = paramsTrainable * b;
    const optimizerBytes = paramsTrainable * 8;
    const masterBytes = precision === 'fp32' ? 0 : paramsTrainable * 4;
    // Korthikanti et al. (2022): a block stores ≈ s·b·h·(34 + 5·a·s/h) bytes of
    // 16-bit activations without recomputation; fp32 doubles it.
    const perBlock = tokens * (34 * summary.hiddenSize + 5 * summary.heads * seqLen) * (b / 2);
    const logits = tokens * summary.vocabSize * 4 * 2;
    const activationsBytes = blocksWithActivations * perBlock + logits;
    return {
      precision,
      weightsBytes,
      gradientsBytes,
      optimizerBytes,
      masterBytes,
      activationsBytes,
      totalBytes: weightsBytes + gradientsBytes + optimizerBytes + masterBytes + activationsBytes,
    };
  });

  return {
    baseDepth: plan.baseLayers,
    newDepth: plan.newDepth,
    added: plan.added,
    paramsBase: summary.paramsTotal,
    paramsTotal,
    paramsTrainable,
    diskBytes: summary.sizeOnDisk + addedBytes,
    storedPrecision: precisionOfDtype(summary.dtype),
    memory,
    formula: [
      'weights = all parameters × bytes per parameter (2 for bf16/fp16, 4 for fp32)',
      'gradients = trainable parameters × bytes per parameter (only the new blocks train)',
      'AdamW m and v = trainable parameters × 8 bytes (two fp32 moments)',
      'master copy = trainable parameters × 4 bytes (fp32 weights kept for bf16/fp16 runs)',
      'activations ≈ blocks from the lowest new block up × batch × seq × (34·hidden + 5·heads·seq) bytes (×2 in fp32) + batch × seq × vocab × 8 bytes (logits and their gradient)',
    ],
    assumptions: [
      `batch ${batch} × ${seqLen} tokens, no activation recomputation, attention scores materialized`,
      `${blocksWithActivations} of ${plan.newDepth} blocks keep activations: backpropagation stops below the lowest new block (${lowestNew < plan.newDepth ? lowestNew : '–'})`,
      'frozen parameters need no gradients or optimizer state; runtime workspace and fragmentation are not counted',
    ],
  };
}

function positiveInt(v: number | undefined, fallback: number, field: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new DeepenError('bad_request', `${field} must be an integer ≥ 1, got ${JSON.stringify(v)}.`, { field });
  return v;
}

/** A registry name → a folder name that works on every platform. */
export function folderNameFor(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 80);
  return slug || 'model';
}

export function suggestedExpandedName(baseName: string, newDepth: number): string {
  return `${baseName.replace(/-expanded-\d+L$/, '')}-expanded-${newDepth}L`;
}
