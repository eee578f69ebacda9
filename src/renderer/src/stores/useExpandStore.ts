// The Expand page's working state: which model, the plan being drawn (a
// strategy preset or slots clicked on the block diagram), the engine's plan
// and figures for it, and the expand job once started. The engine makes the
// plan (one planner for the CLI and the app); this store only says what the
// user asked for and keeps the newest answer.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ExpandJobOutcome, ExpandStrategy, PlanParams, PlanResult } from '@shared/contract';
import { useApi } from '../api/useApi';
import { useModelsStore } from './useModelsStore';
import { useNotificationsStore } from './useNotificationsStore';

export interface PlanDraft {
  strategy: ExpandStrategy;
  /** interleaved: N groups */
  groups: number;
  /** interleaved: P copies after each group */
  copies: number;
  /** top / bottom: blocks to add */
  add: number;
  /** custom: copies by slot (-1 = below block 0) and what each copies */
  insertions: { after: number; source: number }[];
}

/** The paper's shape scaled to the model: groups of about 4 blocks (32 → 8 groups → 40). */
export function defaultGroups(layers: number): number {
  return Math.max(1, Math.min(layers, Math.round(layers / 4)));
}

export function defaultDraft(layers: number): PlanDraft {
  return { strategy: 'interleaved', groups: defaultGroups(layers), copies: 1, add: 1, insertions: [] };
}

export function draftToParams(modelId: string, d: PlanDraft): PlanParams {
  switch (d.strategy) {
    case 'interleaved':
      return { modelId, strategy: 'interleaved', groups: d.groups, copies: d.copies };
    case 'top':
    case 'bottom':
      return { modelId, strategy: d.strategy, add: d.add };
    case 'custom':
      return { modelId, strategy: 'custom', insertions: d.insertions.map((i) => ({ after: i.after, source: i.source })) };
  }
}

/**
 * Clicking slot `after`: an empty slot gets one copy of the block below it
 * (of block 0 for the slot below block 0); an occupied slot is emptied.
 */
export function toggleSlotInsertions(current: { after: number; source: number }[], after: number): { after: number; source: number }[] {
  if (current.some((i) => i.after === after)) return current.filter((i) => i.after !== after);
  return [...current, { after, source: Math.max(after, 0) }].sort((a, b) => a.after - b.after);
}

export const useExpandStore = defineStore('expand', () => {
  const api = useApi();
  const notify = useNotificationsStore();
  const models = useModelsStore();

  const modelId = ref<string | null>(null);
  const draft = ref<PlanDraft>(defaultDraft(1));
  const result = ref<PlanResult | null>(null);
  const planError = ref<string | null>(null);
  const planning = ref(false);
  const jobId = ref<string | null>(null);
  const outcome = ref<ExpandJobOutcome | null>(null);
  let planSeq = 0;

  const model = computed(() => (modelId.value ? (models.byId[modelId.value] ?? null) : null));
  /** The insertions on the diagram now: the draft's for custom, else the engine's plan. */
  const insertions = computed(() =>
    draft.value.strategy === 'custom' ? draft.value.insertions : (result.value?.plan.insertions.map((i) => ({ after: i.after, source: i.source })) ?? []),
  );

  /** Asks the engine for the plan and figures; answers to older requests are dropped. */
  async function replan(): Promise<void> {
    const id = modelId.value;
    if (!id) return;
    const seq = ++planSeq;
    if (draft.value.strategy === 'custom' && !draft.value.insertions.length) {
      result.value = null;
      planError.value = null;
      return;
    }
    planning.value = true;
    try {
      const r = await api.call('models.plan', draftToParams(id, draft.value));
      if (seq !== planSeq) return;
      result.value = r;
      planError.value = null;
    } catch (err) {
      if (seq !== planSeq) return;
      result.value = null;
      planError.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (seq === planSeq) planning.value = false;
    }
  }

  /** Opens a model on the diagram with the paper's layout; keeps the draft when it is the same model. */
  async function selectModel(id: string | null): Promise<void> {
    if (id === modelId.value && (result.value || planError.value || draft.value.strategy === 'custom')) return;
    modelId.value = id;
    result.value = null;
    planError.value = null;
    if (!id) return;
    if (!models.byId[id]) await models.refreshOne(id);
    const m = models.byId[id];
    if (!m) {
      planError.value = 'This model is no longer in the registry.';
      return;
    }
    draft.value = defaultDraft(m.summary.layers);
    await replan();
  }

  async function update(patch: Partial<PlanDraft>): Promise<void> {
    const next = { ...draft.value, ...patch };
    // Switching to custom starts from what the diagram shows now.
    if (patch.strategy === 'custom' && draft.value.strategy !== 'custom' && !patch.insertions) next.insertions = insertions.value.map((i) => ({ ...i }));
    draft.value = next;
    await replan();
  }

  function toggleSlot(after: number): Promise<void> {
    return update({ strategy: 'custom', insertions: toggleSlotInsertions(insertions.value, after) });
  }

  /** Starts the expand job with the current plan. Throws the engine's error (a folder that exists, …) for the dialog to show. */
  async function expand(opts: { name: string; outDir: string }): Promise<string> {
    if (!modelId.value || !result.value) throw new Error('Make a plan first.');
    outcome.value = null;
    const { jobId: id } = await api.call('models.expand', { modelId: modelId.value, plan: result.value.plan, name: opts.name, outDir: opts.outDir });
    jobId.value = id;
    return id;
  }

  /** The finished job's result, once it succeeded. */
  async function loadOutcome(id: string): Promise<ExpandJobOutcome | null> {
    const detail = await notify.attempt('Could not read the expansion result', () => api.call('jobs.get', { id }));
    const r = (detail?.result ?? null) as ExpandJobOutcome | null;
    if (id === jobId.value) outcome.value = r;
    return r;
  }

  function clearJob(): void {
    jobId.value = null;
    outcome.value = null;
  }

  return { modelId, model, draft, result, planError, planning, insertions, jobId, outcome, selectModel, update, toggleSlot, replan, expand, loadOutcome, clearJob };
});
