// The model registry as the renderer sees it: every registered folder with
// its summary, lineage and checks, kept live by `model.changed` and by
// finished expand jobs (which register their result from a worker, where no
// event can be sent). Failures of add/remove come back to the caller so the
// page can show them where the user typed, not only as a toast.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { InspectResult, ModelRecord } from '@shared/contract';
import { useApi } from '../api/useApi';
import { useNotificationsStore } from './useNotificationsStore';

/** A model in the lineage tree: its depth and whether its parent is listed. */
export interface ModelTreeRow {
  model: ModelRecord;
  depth: number;
}

/** Parents before their children (oldest child first), roots newest first; a cycle or a missing parent makes a root. */
export function lineageTree(models: ModelRecord[]): ModelTreeRow[] {
  const byId = new Map(models.map((m) => [m.id, m]));
  const children = new Map<string, ModelRecord[]>();
  const roots: ModelRecord[] = [];
  for (const m of models) {
    const parentId = m.lineage?.parentId;
    if (parentId && byId.has(parentId) && parentId !== m.id) {
      const list = children.get(parentId) ?? [];
      list.push(m);
      children.set(parentId, list);
    } else roots.push(m);
  }
  const rows: ModelTreeRow[] = [];
  const seen = new Set<string>();
  const visit = (m: ModelRecord, depth: number) => {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    rows.push({ model: m, depth });
    for (const c of (children.get(m.id) ?? []).sort((a, b) => a.addedAt - b.addedAt)) visit(c, depth + 1);
  };
  for (const r of roots.sort((a, b) => b.addedAt - a.addedAt)) visit(r, 0);
  // Anything left sits on a cycle of parents (cannot happen through the app); show it anyway.
  for (const m of models) visit(m, 0);
  return rows;
}

export const useModelsStore = defineStore('models', () => {
  const api = useApi();
  const notify = useNotificationsStore();

  const byId = ref<Record<string, ModelRecord>>({});
  const loaded = ref(false);
  const loading = ref(false);

  const models = computed(() => Object.values(byId.value).sort((a, b) => b.addedAt - a.addedAt));
  const tree = computed(() => lineageTree(models.value));

  function childrenOf(id: string): ModelRecord[] {
    return models.value.filter((m) => m.lineage?.parentId === id);
  }

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const list = await notify.attempt('Could not list the models', () => api.call('models.list', {}));
      if (!list) return;
      byId.value = Object.fromEntries(list.map((m) => [m.id, m]));
      loaded.value = true;
    } finally {
      loading.value = false;
    }
  }

  async function refreshOne(id: string): Promise<void> {
    try {
      byId.value[id] = await api.call('models.get', { id });
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found') delete byId.value[id];
      else notify.error('Could not refresh the model', err);
    }
  }

  api.on('model.changed', ({ id, removed }) => {
    if (removed) delete byId.value[id];
    else void refreshOne(id);
  });
  // An expand job registers its result from its worker: reload when one succeeds.
  api.on('job.updated', (job) => {
    if (job.kind === 'expand' && job.state === 'succeeded') void load();
  });

  /** Registers a folder; throws the engine's error (shown by the page next to the path field). */
  async function add(path: string, name?: string): Promise<ModelRecord> {
    const record = await api.call('models.add', name ? { path, name } : { path });
    byId.value[record.id] = record;
    return record;
  }

  /** Reads a folder's summary without registering it; throws the engine's error. */
  function inspect(path: string): Promise<InspectResult> {
    return api.call('models.inspect', { path });
  }

  async function remove(id: string, deleteFiles = false): Promise<boolean> {
    const done = await notify.attempt('Could not remove the model', () => api.call('models.remove', { id, deleteFiles }));
    if (!done) return false;
    delete byId.value[id];
    notify.push('success', deleteFiles && done.filesDeleted ? 'Model removed and its files deleted' : 'Model removed', deleteFiles && !done.filesDeleted ? 'The folder was not deleted: it no longer looked like a model folder.' : '');
    return true;
  }

  async function rename(id: string, name: string): Promise<boolean> {
    const record = await notify.attempt('Could not rename the model', () => api.call('models.rename', { id, name }));
    if (record) byId.value[id] = record;
    return !!record;
  }

  return { byId, models, tree, loaded, loading, childrenOf, load, refreshOne, add, inspect, remove, rename };
});
