// What the engine says about itself: versions, data folder, execution
// providers and which one engine work actually uses.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { EngineInfo } from '@shared/contract';
import { useApi } from '../api/useApi';
import { useNotificationsStore } from './useNotificationsStore';

export const useEngineStore = defineStore('engine', () => {
  const api = useApi();
  const notify = useNotificationsStore();

  const info = ref<EngineInfo | null>(null);
  const loading = ref(false);
  /** a re-probe of the providers is running (it creates sessions, so it takes a moment) */
  const rechecking = ref(false);

  const activeProvider = computed(() => info.value?.activeProvider ?? null);
  const fallbackReason = computed(() => info.value?.fallbackReason ?? null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const next = await notify.attempt('Could not read the engine information', () => api.call('engine.info', {}));
      if (next) info.value = next;
    } finally {
      loading.value = false;
    }
  }

  /** Probes every provider again (after installing drivers or the CUDA provider). */
  async function recheckProviders(): Promise<void> {
    rechecking.value = true;
    try {
      const next = await notify.attempt('Could not re-check the execution providers', () => api.call('engine.info', { refresh: true }));
      if (next) info.value = next;
    } finally {
      rechecking.value = false;
    }
  }

  /** Starts the CUDA provider install job; returns its id. */
  async function installCuda(): Promise<string | undefined> {
    const started = await notify.attempt('Could not start the CUDA install', () => api.call('engine.installCuda', {}));
    return started?.jobId;
  }

  return { info, loading, rechecking, activeProvider, fallbackReason, load, recheckProviders, installCuda };
});
