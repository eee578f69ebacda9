// The user's settings, kept by the engine (so the CLI and every window
// agree): the preferred execution provider and the theme.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ProviderName, Settings } from '@shared/contract';
import { useApi } from '../api/useApi';
import { useEngineStore } from './useEngineStore';
import { useNotificationsStore } from './useNotificationsStore';

export type ThemeChoice = Settings['theme'];

export const useSettingsStore = defineStore('settings', () => {
  const api = useApi();
  const notify = useNotificationsStore();
  const engine = useEngineStore();

  const settings = ref<Settings | null>(null);
  const saving = ref(false);
  /** shown before the engine answered, and kept when saving failed */
  const theme = ref<ThemeChoice>('system');

  async function load(): Promise<void> {
    const next = await notify.attempt('Could not read the settings', () => api.call('settings.get', {}));
    if (next) apply(next);
  }

  function apply(next: Settings): void {
    settings.value = next;
    theme.value = next.theme;
  }

  async function save(patch: Partial<Settings>, what: string): Promise<boolean> {
    saving.value = true;
    try {
      const next = await notify.attempt(`Could not save the ${what}`, () => api.call('settings.set', patch));
      if (next) apply(next);
      return next !== undefined;
    } finally {
      saving.value = false;
    }
  }

  /** Applies at once (it is only looks) and persists; reverts if the engine refused. */
  async function setTheme(next: ThemeChoice): Promise<void> {
    const before = theme.value;
    theme.value = next;
    if (!(await save({ theme: next }, 'theme'))) theme.value = before;
  }

  /** Saves the preferred provider, then asks the engine what it actually uses (it falls back to CPU with a reason). */
  async function setProvider(provider: ProviderName): Promise<void> {
    if (await save({ provider }, 'execution provider')) await engine.load();
  }

  return { settings, theme, saving, load, setTheme, setProvider };
});
