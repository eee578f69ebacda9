// One typed Api for the whole renderer, handed down with provide/inject so
// that stores and pages never reach for a global and tests can pass a fake.
import { inject, type App, type InjectionKey } from 'vue';
import type { Api } from '@shared/client';

export const apiKey: InjectionKey<Api> = Symbol('deepen-api');

export function provideApi(app: App, api: Api): void {
  app.provide(apiKey, api);
}

/** The engine's Api. Call from a component's setup or a Pinia setup store. */
export function useApi(): Api {
  const api = inject(apiKey, null);
  if (!api) throw new Error('useApi() found no Api: call provideApi(app, api) before mounting, and call useApi() only inside setup().');
  return api;
}
