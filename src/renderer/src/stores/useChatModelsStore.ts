// Models loaded for chat (the engine's model pool), kept live by `chat.model`
// events: state, load progress, provider, memory. A refused or failed load is
// kept per model so the picker can show it where the user clicked Load.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { LoadEstimate, LoadPrecision, PoolModel } from '@shared/contract';
import { useApi } from '../api/useApi';
import { useNotificationsStore } from './useNotificationsStore';

export const useChatModelsStore = defineStore('chatModels', () => {
  const api = useApi();
  const notify = useNotificationsStore();

  const pool = ref<Record<string, PoolModel>>({});
  const estimates = ref<Record<string, LoadEstimate>>({});
  /** why the last Load of a model was refused (out of memory, folder gone…) */
  const loadErrors = ref<Record<string, string>>({});
  const precision = ref<LoadPrecision>('auto');
  /** KV cache size to load with; null = the engine's default (the model's context, at most 2048) */
  const contextLength = ref<number | null>(null);
  const loadParams = (modelId: string) => ({ modelId, precision: precision.value, ...(contextLength.value ? { contextLength: contextLength.value } : {}) });
  const loaded = ref(false);

  const list = computed(() => Object.values(pool.value));
  const ready = computed(() => list.value.filter((m) => m.state === 'ready'));
  const usedBytes = computed(() => ready.value.reduce((sum, m) => sum + m.memoryBytes, 0));

  function stateOf(modelId: string): PoolModel | null {
    return pool.value[modelId] ?? null;
  }

  async function refresh(): Promise<void> {
    const models = await notify.attempt('Could not list the loaded models', () => api.call('chat.models', {}));
    if (!models) return;
    pool.value = Object.fromEntries(models.map((m) => [m.modelId, m]));
    loaded.value = true;
  }

  async function estimate(modelId: string): Promise<void> {
    try {
      estimates.value[modelId] = await api.call('chat.estimate', loadParams(modelId));
    } catch {
      // An estimate is a hint; Load reports the real problem.
      delete estimates.value[modelId];
    }
  }

  async function load(modelId: string): Promise<boolean> {
    delete loadErrors.value[modelId];
    try {
      const { model } = await api.call('chat.load', loadParams(modelId));
      pool.value[modelId] = model;
      return true;
    } catch (err) {
      loadErrors.value[modelId] = (err as Error).message;
      return false;
    }
  }

  async function unload(modelId: string): Promise<void> {
    const done = await notify.attempt('Could not unload the model', () => api.call('chat.unload', { modelId }));
    if (done) {
      delete pool.value[modelId];
      void estimate(modelId);
    }
  }

  api.on('chat.model', ({ modelId, model }) => {
    if (model) pool.value[modelId] = model;
    else delete pool.value[modelId];
  });

  return { pool, list, ready, usedBytes, estimates, loadErrors, precision, contextLength, loaded, stateOf, refresh, estimate, load, unload };
});
