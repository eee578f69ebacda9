// The typed client every face uses: `api.call('jobs.list', {})` returns a
// typed promise; `api.on('job.updated', cb)` subscribes to events. Errors
// come back as DeepenError with the engine's code and message.
import { DeepenError } from './errors';
import type { EventName, MethodName, ParamsOf, PayloadOf, ResultOf } from './contract/index';
import type { Transport, WireMessage } from './protocol';

export interface Api {
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  on<E extends EventName>(event: E, handler: (payload: PayloadOf<E>) => void): () => void;
  onClose(handler: (reason: string) => void): () => void;
  readonly closed: boolean;
  close(): void;
}

export function createClient(transport: Transport): Api {
  let nextId = 1;
  let closedReason: string | null = null;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const closeListeners = new Set<(reason: string) => void>();

  transport.onMessage((msg: WireMessage) => {
    if (msg.t === 'res') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(DeepenError.fromInfo(msg.error));
    } else if (msg.t === 'evt') {
      listeners.get(msg.event)?.forEach((h) => h(msg.payload));
    }
  });
  transport.onClose((reason) => {
    if (closedReason !== null) return;
    closedReason = reason || 'the connection closed';
    const err = new DeepenError('engine_closed', `The Deepen engine is not reachable (${closedReason}). Restart it (or reload the page) and try again.`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    closeListeners.forEach((h) => h(closedReason!));
  });

  return {
    call(method, params) {
      if (closedReason !== null) {
        return Promise.reject(new DeepenError('engine_closed', `The Deepen engine is not reachable (${closedReason}). Restart it (or reload the page) and try again.`));
      }
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        transport.send({ t: 'req', id, method, params: params ?? {} });
      });
    },
    on(event, handler) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(handler as (p: unknown) => void);
      return () => set!.delete(handler as (p: unknown) => void);
    },
    onClose(handler) {
      closeListeners.add(handler);
      return () => closeListeners.delete(handler);
    },
    get closed() {
      return closedReason !== null;
    },
    close() {
      transport.close?.();
    },
  };
}
