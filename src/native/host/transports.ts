// Server-side ends of the two transports, adapting each carrier to the
// contract's Transport interface.
import type { WebSocket } from 'ws';
import { isWireMessage, type Transport, type WireMessage } from '../../shared/protocol';

/** A WebSocket (browser mode). Messages are JSON text frames. */
export function webSocketTransport(ws: WebSocket): Transport {
  return {
    send: (m: WireMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    },
    onMessage: (h) =>
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let msg: unknown;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (isWireMessage(msg)) h(msg);
      }),
    onClose: (h) => ws.on('close', (_code, reason) => h(reason.toString() || 'closed')),
    close: () => ws.close(),
  };
}

/** The minimal surface shared by Electron's MessagePortMain and Node's MessagePort. */
export interface PortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start?(): void;
  close(): void;
}

/** An Electron MessagePortMain handed to the utility process (desktop app). */
export function portTransport(port: PortLike): Transport {
  const t: Transport = {
    send: (m) => port.postMessage(m),
    onMessage: (h) => {
      port.on('message', (e) => {
        if (isWireMessage(e.data)) h(e.data);
      });
      port.start?.();
    },
    onClose: (h) => port.on('close', () => h('the window closed')),
    close: () => port.close(),
  };
  return t;
}
