// The expansion plan as data: which copies go where. Every strategy reduces to
// a list of insertions "after old block a, put a copy of old block s"; from it
// follow the new depth, the new index of every old block and of every copy.
//
// Interleaved (the paper): L blocks, N groups of M = L/N, P copies of each
// group's last block after it. LLaMA2-7B: L=32, N=8, P=1 → 40 blocks, new at
// 4, 9, 14, …, 39. When N does not divide L we spread the groups evenly
// (sizes differ by at most one, the larger ones on top) instead of failing.
import type { ExpandStrategy, ExpansionPlan, PlanInsertion, PlanLayer } from '../../shared/contract/models';
import { DeepenError } from '../../shared/errors';

export type { ExpandStrategy };
export const expandStrategies: ExpandStrategy[] = ['interleaved', 'top', 'bottom', 'custom'];

export interface PlanRequest {
  strategy: ExpandStrategy;
  /** blocks to add (interleaved, top, bottom; custom takes the count from positions) */
  add?: number;
  /** interleaved: P, copies after each group (default 1); the number of groups is add / P */
  copiesPerGroup?: number;
  /** custom: one copy after each listed old block (it copies that block); -1 = below block 0 (copies block 0) */
  positions?: number[];
  /** custom, fuller form: choose the copied block too */
  insertions?: { after: number; source?: number }[];
}

// The plan's shape is part of the contract (the Expand page shows it and sends
// its insertions back); the engine always rebuilds it from the insertions.
export type Insertion = PlanInsertion;
export type NewLayer = PlanLayer;
export type { ExpansionPlan };

const bottomWarning =
  'Blocks added at the bottom (below block 0) are "prefix stacking", which destroyed general ability in the LLaMA Pro ablation (Table 5: general average 29.36 vs 56+ for the other layouts). Prefer interleaved.';
const topWarning =
  'Blocks added only at the top kept general ability in the LLaMA Pro ablation but learned the new domain worse (Table 5: Unfair-ToS 60.98 vs 75.11 interleaved). Interleaved is the paper\'s choice.';

const badRequest = (message: string, details?: Record<string, unknown>) => new DeepenError('bad_request', message, details);

function checkCount(name: string, v: unknown, min: number): number {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw badRequest(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}.`, { field: name });
  return v as number;
}

export function planExpansion(numLayers: number, req: PlanRequest): ExpansionPlan {
  const L = checkCount('the number of layers', numLayers, 1);
  switch (req.strategy) {
    case 'interleaved':
      return interleaved(L, checkCount('add', req.add, 1), checkCount('copiesPerGroup', req.copiesPerGroup ?? 1, 1));
    case 'top': {
      const add = checkCount('add', req.add, 1);
      const ins = Array.from({ length: add }, () => ({ after: L - 1, source: L - 1 }));
      return buildPlan(L, 'top', ins, [topWarning], `Top: ${add} cop${add === 1 ? 'y' : 'ies'} of block ${L - 1} on top`);
    }
    case 'bottom': {
      const add = checkCount('add', req.add, 1);
      const ins = Array.from({ length: add }, () => ({ after: -1, source: 0 }));
      return buildPlan(L, 'bottom', ins, [bottomWarning], `Bottom: ${add} cop${add === 1 ? 'y' : 'ies'} of block 0 below it`);
    }
    case 'custom': {
      const raw = req.insertions ?? (req.positions ?? []).map((after) => ({ after, source: undefined }));
      if (!raw.length) throw badRequest('A custom plan needs at least one position: the old block after which to insert a copy (-1 for below block 0).');
      const ins = raw.map(({ after, source }) => {
        if (!Number.isSafeInteger(after) || after < -1 || after >= L) throw badRequest(`Position ${JSON.stringify(after)} is not between -1 and ${L - 1} (the model has ${L} blocks).`, { field: 'positions' });
        const src = source ?? Math.max(after, 0);
        if (!Number.isSafeInteger(src) || src < 0 || src >= L) throw badRequest(`Source block ${JSON.stringify(source)} is not between 0 and ${L - 1}.`, { field: 'insertions' });
        return { after, source: src };
      });
      const warnings = ins.some((i) => i.after === -1) ? [bottomWarning] : [];
      return buildPlan(L, 'custom', ins, warnings, `Custom: ${ins.length} new block${ins.length === 1 ? '' : 's'}`);
    }
    default:
      throw badRequest(`Unknown strategy ${JSON.stringify((req as { strategy: unknown }).strategy)}; use one of ${expandStrategies.join(', ')}.`, { field: 'strategy' });
  }
}

function interleaved(L: number, add: number, P: number): ExpansionPlan {
  if (add % P !== 0) throw badRequest(`Cannot add ${add} blocks as ${P} copies per group: ${add} is not a multiple of ${P}.`, { field: 'add' });
  const N = add / P;
  if (N > L) {
    throw badRequest(`Cannot split ${L} blocks into ${N} groups. Add at most ${L} blocks with one copy per group, or raise copiesPerGroup (e.g. ${Math.ceil(add / L)}).`, { field: 'add' });
  }
  // Group g holds old blocks [floor(g·L/N), floor((g+1)·L/N) - 1]: sizes differ by
  // at most one, and when N divides L these are exactly the paper's groups.
  const groups = Array.from({ length: N }, (_, g) => ({ first: Math.floor((g * L) / N), last: Math.floor(((g + 1) * L) / N) - 1 }));
  const ins = groups.flatMap((g) => Array.from({ length: P }, () => ({ after: g.last, source: g.last })));
  const warnings: string[] = [];
  const sizes = groups.map((g) => g.last - g.first + 1);
  const M = L / N;
  if (!Number.isInteger(M)) {
    warnings.push(`${L} blocks do not split evenly into ${N} groups; groups have ${Math.min(...sizes)} or ${Math.max(...sizes)} blocks (${sizes.join(', ')}), so the copies are spread as evenly as possible.`);
  }
  const groupText = Number.isInteger(M) ? `${N} group${N === 1 ? '' : 's'} of ${M}` : `${N} groups of ${Math.min(...sizes)}–${Math.max(...sizes)}`;
  const plan = buildPlan(L, 'interleaved', ins, warnings, `Interleaved: ${groupText} block${M === 1 ? '' : 's'}, ${P} cop${P === 1 ? 'y' : 'ies'} of each group's last block`);
  plan.groups = groups;
  return plan;
}

/** Orders insertions, numbers every block of the expanded model and checks the result. */
export function buildPlan(
  L: number,
  strategy: ExpandStrategy,
  raw: { after: number; source: number }[],
  warnings: string[],
  description: string,
): ExpansionPlan {
  // Stable sort: copies after the same block keep their given order.
  const sorted = raw.map((r, i) => ({ ...r, i })).sort((a, b) => a.after - b.after || a.i - b.i);
  const layers: NewLayer[] = [];
  const oldToNew: number[] = [];
  const insertions: Insertion[] = [];
  let k = 0;
  const flush = (after: number) => {
    while (k < sorted.length && sorted[k].after === after) {
      const { source } = sorted[k++];
      insertions.push({ after, source, newIndex: layers.length });
      layers.push({ index: layers.length, source, isNew: true });
    }
  };
  flush(-1);
  for (let i = 0; i < L; i++) {
    oldToNew.push(layers.length);
    layers.push({ index: layers.length, source: i, isNew: false });
    flush(i);
  }
  if (k !== sorted.length) throw badRequest(`Insertion after block ${sorted[k].after} is outside the model's ${L} blocks.`);
  const newBlockIndices = insertions.map((x) => x.newIndex);
  const newDepth = layers.length;
  const shown = newBlockIndices.length > 12 ? `${newBlockIndices.slice(0, 12).join(', ')}, …` : newBlockIndices.join(', ');
  return {
    strategy,
    baseLayers: L,
    added: insertions.length,
    newDepth,
    insertions,
    layers,
    oldToNew,
    newBlockIndices,
    warnings,
    description: `${description} → ${L} + ${insertions.length} = ${newDepth} blocks; new blocks at ${shown}.`,
  };
}

/**
 * Rebuilds a plan that arrived as data (from the UI, a file, another process)
 * from its insertions alone and checks it fits a model of `numLayers` blocks,
 * so the writer never trusts derived fields it did not compute.
 */
export function normalizePlan(plan: ExpansionPlan, numLayers: number, opts: { allowEmpty?: boolean } = {}): ExpansionPlan {
  if (!plan || !Array.isArray(plan.insertions)) throw badRequest('The expansion plan has no insertions.');
  if (plan.baseLayers !== numLayers) {
    throw badRequest(`The plan was made for a model with ${plan.baseLayers} blocks, but this model has ${numLayers}. Make the plan again for this model.`, { field: 'plan' });
  }
  if (!plan.insertions.length && !opts.allowEmpty) throw badRequest('The expansion plan adds no blocks.');
  for (const ins of plan.insertions) {
    if (!Number.isSafeInteger(ins.after) || ins.after < -1 || ins.after >= numLayers || !Number.isSafeInteger(ins.source) || ins.source < 0 || ins.source >= numLayers) {
      throw badRequest(`The plan inserts a copy of block ${ins.source} after block ${ins.after}, outside the model's ${numLayers} blocks.`, { field: 'plan' });
    }
  }
  const rebuilt = buildPlan(numLayers, plan.strategy, plan.insertions, plan.warnings ?? [], (plan.description ?? '').split(' → ')[0] || plan.strategy);
  if (plan.groups) rebuilt.groups = plan.groups;
  return rebuilt;
}
