// Whether the engine can be talked to, and if not, why (in words).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ConnectionProblem, ConnectionVia } from '../api/transport';

export const useConnectionStore = defineStore('connection', () => {
  const state = ref<'connecting' | 'open' | 'closed'>('connecting');
  const via = ref<ConnectionVia | null>(null);
  const problem = ref<ConnectionProblem | null>(null);

  function setVia(value: ConnectionVia): void {
    via.value = value;
  }
  function opened(): void {
    if (state.value === 'connecting') state.value = 'open';
  }
  function lost(p: ConnectionProblem): void {
    state.value = 'closed';
    problem.value = p;
  }

  return { state, via, problem, setVia, opened, lost };
});
