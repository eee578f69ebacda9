// Toasts. Every failed engine call the UI makes goes through `attempt`, so
// the user always sees the engine's own message (which says what to do).
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notification {
  id: number;
  kind: 'error' | 'success' | 'info';
  title: string;
  message: string;
}

/** Errors stay longer than good news; nobody should miss why something failed. */
const lifetimeMs: Record<Notification['kind'], number> = { error: 12_000, success: 4_000, info: 6_000 };

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

function codeOf(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export const useNotificationsStore = defineStore('notifications', () => {
  const items = ref<Notification[]>([]);
  let nextId = 1;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();

  function dismiss(id: number): void {
    items.value = items.value.filter((n) => n.id !== id);
    clearTimeout(timers.get(id));
    timers.delete(id);
  }

  function push(kind: Notification['kind'], title: string, message = ''): number {
    const id = nextId++;
    items.value = [...items.value.slice(-4), { id, kind, title, message }];
    timers.set(id, setTimeout(() => dismiss(id), lifetimeMs[kind]));
    return id;
  }

  /** Shows a failed call. A closed engine is left to the full-page notice, which says it better. */
  function error(title: string, err: unknown): void {
    if (codeOf(err) === 'engine_closed') return;
    push('error', title, messageOf(err));
  }

  /** Runs an engine call; on failure shows the engine's message and returns undefined. */
  async function attempt<T>(title: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      error(title, err);
      return undefined;
    }
  }

  return { items, push, dismiss, error, attempt };
});
