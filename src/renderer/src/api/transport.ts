// Connects the renderer to the engine. In the desktop app the preload exposes
// `window.deepen` (a message pipe over IPC); in browser mode we open a
// WebSocket to `/ws` on the page's own origin, authenticated by the cookie
// that opening `?token=…` set. There is deliberately no automatic reconnect:
// a restarted `deepen serve` has a new token and a new job table, so the
// honest thing is to say what happened and let the user reload.
//
// Only types come from @shared here, so this module stays free of runtime
// dependencies and is unit-tested on its own; main.ts wraps the picked
// transport in the shared client.
import type { DeepenBridge } from '@shared/bridge';
import type { Transport, WireMessage } from '@shared/protocol';

export type ConnectionVia = 'electron' | 'websocket';

/** What the UI shows when the engine cannot be talked to. */
export interface ConnectionProblem {
  kind: 'unauthorized' | 'unreachable' | 'closed';
  title: string;
  detail: string;
}

/** How a closed connection looked, collected by the transport. */
export interface CloseInfo {
  via: ConnectionVia;
  /** the socket/pipe had opened before it closed */
  opened: boolean;
  code?: number;
  reason?: string;
  /** for a WebSocket that never opened: what a plain HTTP request to the same origin answered */
  probe?: 'unauthorized' | 'unreachable' | 'ok';
}

/** Turns a closed connection into words. Pure, so the wording is tested. */
export function describeClose(info: CloseInfo): ConnectionProblem {
  if (info.via === 'electron') {
    return {
      kind: 'closed',
      title: 'The engine is not reachable',
      detail: `The Deepen engine process stopped${info.reason ? ` (${info.reason})` : ''}. Restart Deepen to continue; finished jobs and your data are kept.`,
    };
  }
  if (!info.opened && info.probe !== 'unreachable') {
    // The server refuses the WebSocket upgrade with 401 only for a missing
    // or wrong token (a restarted `deepen serve` prints a new one).
    return {
      kind: 'unauthorized',
      title: 'Access token required',
      detail: 'This page needs the access token: open the URL printed by `deepen serve` (it ends in ?token=…). A restarted server prints a new one.',
    };
  }
  if (!info.opened) {
    return {
      kind: 'unreachable',
      title: 'The engine is not reachable',
      detail: 'The engine is not reachable: nothing answers at this address. Start it with `deepen serve`, then open the URL it prints.',
    };
  }
  const why = info.reason ? ` (${info.reason})` : info.code && info.code !== 1000 && info.code !== 1005 ? ` (code ${info.code})` : '';
  return {
    kind: 'closed',
    title: 'The engine is not reachable',
    detail: `The connection to the engine closed${why}. If \`deepen serve\` stopped, restart it and open the URL it prints; otherwise reload this page.`,
  };
}

/** The browser WebSocket surface we use (so tests can pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (ev: { data?: unknown; code?: number; reason?: string }) => void): void;
}

export interface WebSocketDeps {
  createSocket(url: string): SocketLike;
  /** status of a plain HTTP request to the page's origin, or null when nothing answered */
  probe(): Promise<number | null>;
}

const OPEN = 1;

/**
 * A Transport over a browser WebSocket. Messages sent before the socket opens
 * are queued. `onProblem` gets the described close (after the probe, when the
 * socket never opened); the client's own onClose gets the same words.
 */
export function webSocketTransport(url: string, deps: WebSocketDeps, onProblem: (p: ConnectionProblem) => void, onOpen: () => void = () => {}): Transport {
  const socket = deps.createSocket(url);
  const queue: WireMessage[] = [];
  const messageHandlers: ((m: WireMessage) => void)[] = [];
  const closeHandlers: ((reason: string) => void)[] = [];
  let opened = false;
  let closed = false;

  socket.addEventListener('open', () => {
    opened = true;
    for (const m of queue.splice(0)) socket.send(JSON.stringify(m));
    onOpen();
  });
  socket.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    // The shared client checks each message's shape; drop only what is not a message at all.
    if (msg && typeof msg === 'object' && typeof (msg as { t?: unknown }).t === 'string') messageHandlers.forEach((h) => h(msg as WireMessage));
  });
  socket.addEventListener('close', (ev) => {
    if (closed) return;
    closed = true;
    const finish = (probe?: CloseInfo['probe']) => {
      const problem = describeClose({ via: 'websocket', opened, code: ev.code, reason: ev.reason, probe });
      onProblem(problem);
      closeHandlers.forEach((h) => h(problem.kind === 'unauthorized' ? 'the access token was refused' : problem.kind === 'unreachable' ? 'nothing answers at this address' : ev.reason || 'the connection closed'));
    };
    if (opened) return finish();
    // A socket that never opened does not say why (browsers hide the HTTP
    // status of a refused upgrade), so ask the same origin over plain HTTP.
    deps.probe().then(
      (status) => finish(status === null ? 'unreachable' : status === 401 ? 'unauthorized' : 'ok'),
      () => finish('unreachable'),
    );
  });

  return {
    send(message) {
      if (closed) return;
      if (socket.readyState === OPEN) socket.send(JSON.stringify(message));
      else queue.push(message);
    },
    onMessage: (h) => void messageHandlers.push(h),
    onClose: (h) => void closeHandlers.push(h),
    close: () => socket.close(1000, 'closed by the page'),
  };
}

/** The desktop app's pipe, as a Transport (it already has that shape). */
export function bridgeTransport(bridge: DeepenBridge, onProblem: (p: ConnectionProblem) => void): Transport {
  return {
    // Vue reactive proxies cannot cross contextBridge (structured clone refuses
    // them): send a plain JSON copy, which is all the wire format carries anyway.
    send: (m) => bridge.send(JSON.parse(JSON.stringify(m)) as WireMessage),
    onMessage: (h) => bridge.onMessage(h),
    onClose: (h) =>
      bridge.onClose((reason) => {
        onProblem(describeClose({ via: 'electron', opened: true, reason }));
        h(reason);
      }),
  };
}

export interface PickedTransport {
  transport: Transport;
  via: ConnectionVia;
}

export interface ConnectHandlers {
  onOpen(): void;
  onProblem(problem: ConnectionProblem): void;
}

/** What pickTransport needs from the page (`window` in the app; a fake in tests). */
export interface PageEnvironment {
  deepen?: DeepenBridge;
  // Structural types rather than DOM ones, so node-side tests type-check too.
  location: { protocol: string; host: string; origin: string };
  WebSocket: new (url: string) => unknown;
  fetch: (url: string, init: { method: 'HEAD'; cache: 'no-store'; credentials: 'same-origin' }) => Promise<{ status: number }>;
}

/** The transport picker: the Electron bridge when the preload exposed one, else a WebSocket to this origin. */
export function pickTransport(win: PageEnvironment, handlers: ConnectHandlers): PickedTransport {
  if (win.deepen) {
    // The preload's pipe is connected before the page runs.
    handlers.onOpen();
    return { transport: bridgeTransport(win.deepen, handlers.onProblem), via: 'electron' };
  }
  const { protocol, host, origin } = win.location;
  const url = `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/ws`;
  const transport = webSocketTransport(
    url,
    {
      createSocket: (u) => new win.WebSocket(u) as SocketLike,
      probe: async () => {
        try {
          const res = await win.fetch(`${origin}/`, { method: 'HEAD', cache: 'no-store', credentials: 'same-origin' });
          return res.status;
        } catch {
          return null;
        }
      },
    },
    handlers.onProblem,
    handlers.onOpen,
  );
  return { transport, via: 'websocket' };
}
