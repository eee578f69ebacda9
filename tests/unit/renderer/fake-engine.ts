// An in-memory engine for store tests: a Transport that answers requests
// from a table of handlers and can push events, wired into the real client.
import { createApp } from 'vue';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { createClient, type Api } from '../../../src/shared/client';
import type { Transport, WireMessage } from '../../../src/shared/protocol';
import { DeepenError } from '../../../src/shared/errors';
import { apiKey } from '../../../src/renderer/src/api/useApi';

type Handler = (params: any) => unknown;

export interface FakeEngine {
  api: Api;
  pinia: Pinia;
  /** every request, in order */
  calls: { method: string; params: any }[];
  handle(method: string, handler: Handler): void;
  emit(event: string, payload: unknown): void;
  /** lets pending requests and their answers run */
  flush(): Promise<void>;
}

export function fakeEngine(handlers: Record<string, Handler> = {}): FakeEngine {
  const table = new Map(Object.entries(handlers));
  const calls: FakeEngine['calls'] = [];
  let deliver: (m: WireMessage) => void = () => {};
  const transport: Transport = {
    send(m) {
      if (m.t !== 'req') return;
      calls.push({ method: m.method, params: m.params });
      const handler = table.get(m.method);
      Promise.resolve()
        .then(() => {
          if (!handler) throw new DeepenError('bad_request', `no fake handler for ${m.method}`);
          return handler(m.params);
        })
        .then(
          (result) => deliver({ t: 'res', id: m.id, ok: true, result: result ?? null }),
          (err) => deliver({ t: 'res', id: m.id, ok: false, error: err instanceof DeepenError ? err.toInfo() : { code: 'internal', message: String(err) } }),
        );
    },
    onMessage: (h) => void (deliver = h),
    onClose: () => {},
  };
  const api = createClient(transport);
  const app = createApp({});
  app.provide(apiKey, api);
  const pinia = createPinia();
  app.use(pinia);
  setActivePinia(pinia);
  return {
    api,
    pinia,
    calls,
    handle: (method, handler) => void table.set(method, handler),
    emit: (event, payload) => deliver({ t: 'evt', event, payload }),
    flush: () => new Promise((r) => setTimeout(r, 0)),
  };
}
