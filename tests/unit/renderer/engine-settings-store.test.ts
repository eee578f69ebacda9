// Engine info, settings (theme and provider, with the fallback the engine
// reports) and notifications, against an in-memory engine.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineInfo, Settings } from '../../../src/shared/contract';
import { DeepenError } from '../../../src/shared/errors';
import { useEngineStore } from '../../../src/renderer/src/stores/useEngineStore';
import { useNotificationsStore } from '../../../src/renderer/src/stores/useNotificationsStore';
import { useSettingsStore } from '../../../src/renderer/src/stores/useSettingsStore';
import { fakeEngine } from './fake-engine';

function info(over: Partial<EngineInfo> = {}): EngineInfo {
  return {
    version: '0.1.0',
    node: '20.20.2',
    electron: null,
    ort: '1.30.0',
    platform: 'linux',
    arch: 'x64',
    cpus: 2,
    totalMemoryBytes: 8 * 2 ** 30,
    dataDir: '/data',
    databaseFile: '/data/deepen.db',
    schemaVersion: 5,
    providers: [
      { name: 'cpu', ok: true, ms: 3 },
      { name: 'cuda', ok: false, reason: 'no NVIDIA driver', ms: 1 },
    ],
    preferredProvider: 'cpu',
    activeProvider: 'cpu',
    fallbackReason: null,
    cudaInstallable: false,
    ...over,
  };
}

/** An engine whose settings live in memory and whose info follows the chosen provider. */
function settingsEngine(rejectTheme = false) {
  let settings: Settings = { provider: 'cpu', theme: 'system' };
  return fakeEngine({
    'settings.get': () => settings,
    'settings.set': (patch: Partial<Settings>) => {
      if (rejectTheme && patch.theme) throw new DeepenError('internal', 'The database is read-only.');
      settings = { ...settings, ...patch };
      return settings;
    },
    'engine.info': () =>
      settings.provider === 'cuda'
        ? info({ preferredProvider: 'cuda', activeProvider: 'cpu', fallbackReason: 'Using CPU: the cuda provider is unavailable (no NVIDIA driver).' })
        : info({ preferredProvider: settings.provider, activeProvider: settings.provider }),
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('useEngineStore', () => {
  it('loads the info, re-probes with refresh, and reports a refused CUDA install', async () => {
    const engine = fakeEngine({
      'engine.info': () => info(),
      'engine.installCuda': () => {
        throw new DeepenError('unsupported', 'No NVIDIA driver was found on this machine, so the CUDA provider cannot be installed here.');
      },
    });
    const store = useEngineStore();
    await store.load();
    expect(store.activeProvider).toBe('cpu');
    expect(store.fallbackReason).toBeNull();
    await store.recheckProviders();
    expect(engine.calls.map((c) => c.params)).toEqual([{}, { refresh: true }]);
    expect(store.rechecking).toBe(false);

    expect(await store.installCuda()).toBeUndefined();
    expect(useNotificationsStore().items[0]).toMatchObject({ kind: 'error', message: expect.stringContaining('No NVIDIA driver') });
  });
});

describe('useSettingsStore', () => {
  it('saves the provider and then shows what the engine actually uses, with the fallback reason', async () => {
    const engine = settingsEngine();
    const settings = useSettingsStore();
    const store = useEngineStore();
    await settings.load();
    await store.load();
    await settings.setProvider('cuda');
    expect(settings.settings?.provider).toBe('cuda');
    expect(store.activeProvider).toBe('cpu');
    expect(store.fallbackReason).toContain('cuda provider is unavailable');
    expect(engine.calls.map((c) => c.method)).toEqual(['settings.get', 'engine.info', 'settings.set', 'engine.info']);

    await settings.setProvider('cpu');
    expect(store.fallbackReason).toBeNull();
  });

  it('applies a theme at once, persists it, and goes back when the engine refuses', async () => {
    settingsEngine();
    const settings = useSettingsStore();
    await settings.load();
    const pending = settings.setTheme('dark');
    expect(settings.theme).toBe('dark');
    await pending;
    expect(settings.settings?.theme).toBe('dark');

    settingsEngine(true);
    const again = useSettingsStore();
    await again.load();
    await again.setTheme('light');
    expect(again.theme).toBe('system');
    expect(useNotificationsStore().items[0]).toMatchObject({ title: 'Could not save the theme', message: 'The database is read-only.' });
  });
});

describe('useNotificationsStore', () => {
  it('returns the value of a call that worked and undefined with a toast for one that failed', async () => {
    fakeEngine();
    const notes = useNotificationsStore();
    expect(await notes.attempt('x', async () => 5)).toBe(5);
    expect(await notes.attempt('Could not do it', async () => Promise.reject(new DeepenError('not_found', 'No job with id q.')))).toBeUndefined();
    expect(notes.items).toEqual([expect.objectContaining({ kind: 'error', title: 'Could not do it', message: 'No job with id q.' })]);
  });

  it('lets good news go sooner than errors, and can be dismissed', () => {
    vi.useFakeTimers();
    fakeEngine();
    const notes = useNotificationsStore();
    notes.push('success', 'Saved');
    const err = notes.push('error', 'Broke', 'why');
    vi.advanceTimersByTime(5_000);
    expect(notes.items.map((n) => n.title)).toEqual(['Broke']);
    notes.dismiss(err);
    expect(notes.items).toEqual([]);
  });
});
