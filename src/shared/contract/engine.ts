import { event, method } from './define';
import type { JobStarted } from './jobs';

export type ProviderName = 'cpu' | 'webgpu' | 'cuda' | 'dml';

export interface ProviderStatus {
  name: ProviderName;
  /** the session initialised and ran a one-node graph on this machine */
  ok: boolean;
  /** why it is unavailable, in words a user can act on */
  reason?: string;
  /** time to create the probe session, ms */
  ms?: number;
}

export interface EngineInfo {
  version: string;
  node: string;
  electron: string | null;
  ort: string;
  platform: string;
  arch: string;
  cpus: number;
  totalMemoryBytes: number;
  dataDir: string;
  databaseFile: string;
  schemaVersion: number;
  providers: ProviderStatus[];
  /** what the user picked in Settings */
  preferredProvider: ProviderName;
  /** what engine work actually uses (cpu when the preferred one failed) */
  activeProvider: ProviderName;
  /** set when the preferred provider failed and CPU is used instead */
  fallbackReason: string | null;
  /** `deepen doctor --install-cuda` / the Settings button can fetch CUDA libraries here */
  cudaInstallable: boolean;
}

export interface Settings {
  provider: ProviderName;
  theme: 'system' | 'light' | 'dark';
}

export const engineMethods = {
  'engine.ping': method<Record<string, never>, { time: number }>(),
  'engine.info': method<{ refresh?: boolean }, EngineInfo>(),
  'engine.selftest': method<{ providers?: ProviderName[]; benchmarkMs?: number }, JobStarted>(),
  'engine.installCuda': method<Record<string, never>, JobStarted>(),
  'settings.get': method<Record<string, never>, Settings>(),
  'settings.set': method<Partial<Settings>, Settings>(),
};

/** Events from the desktop app's own chrome (menus), delivered by the preload. */
export const appEvents = {
  /** File › Open Model Folder… picked a folder: add it to the registry and show it */
  'app.openModelFolder': event<{ path: string }>(),
};
