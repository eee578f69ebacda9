// A clock for live durations ("running for 12 s"). It ticks only while
// `active` says something is running, so idle pages do not re-render.
import { onScopeDispose, ref, watch, type Ref } from 'vue';

export function useNow(active: () => boolean, intervalMs = 1000): Ref<number> {
  const now = ref(Date.now());
  let timer: ReturnType<typeof setInterval> | null = null;
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  watch(
    active,
    (on) => {
      now.value = Date.now();
      if (on && !timer) timer = setInterval(() => (now.value = Date.now()), intervalMs);
      if (!on) stop();
    },
    { immediate: true },
  );
  onScopeDispose(stop);
  return now;
}
