// The wire format shared by both transports (MessagePort in Electron,
// WebSocket in browser mode). Messages are plain JSON-able objects.
import type { ErrorInfo } from './errors';

export interface RequestMessage {
  t: 'req';
  id: number;
  method: string;
  params: unknown;
}
export type ResponseMessage =
  | { t: 'res'; id: number; ok: true; result: unknown }
  | { t: 'res'; id: number; ok: false; error: ErrorInfo };
export interface EventMessage {
  t: 'evt';
  event: string;
  payload: unknown;
}
export type WireMessage = RequestMessage | ResponseMessage | EventMessage;

/** One end of a connection, whatever carries it. */
export interface Transport {
  send(message: WireMessage): void;
  onMessage(handler: (message: WireMessage) => void): void;
  onClose(handler: (reason: string) => void): void;
  close?(): void;
}

export function isWireMessage(value: unknown): value is WireMessage {
  if (!value || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  if (m.t === 'req') return typeof m.id === 'number' && typeof m.method === 'string';
  if (m.t === 'res') return typeof m.id === 'number' && typeof m.ok === 'boolean';
  if (m.t === 'evt') return typeof m.event === 'string';
  return false;
}
