// What the preload lets through, as pure functions (unit-tested without
// Electron). The page is treated as untrusted: if it were ever compromised,
// it could still only call methods of the contract.
import { isMethodName } from '../shared/contract/index';
import { isWireMessage, type EventMessage, type RequestMessage, type WireMessage } from '../shared/protocol';
import type { MenuCommand } from './channels';

/**
 * A request from the page to the engine, rebuilt from its known fields (so
 * nothing else rides along), or null when it is not a request for a method
 * of the contract.
 */
export function outgoingRequest(value: unknown): RequestMessage | null {
  if (!isWireMessage(value) || value.t !== 'req') return null;
  if (!Number.isSafeInteger(value.id) || !isMethodName(value.method)) return null;
  return { t: 'req', id: value.id, method: value.method, params: value.params ?? {} };
}

/** A message from the engine to the page: responses and events only. */
export function incomingMessage(value: unknown): WireMessage | null {
  if (!isWireMessage(value) || value.t === 'req') return null;
  return value;
}

/** A menu command from main, as the event the page subscribes to (`app.openModelFolder`). */
export function menuEvent(value: unknown): EventMessage | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Partial<MenuCommand>;
  if (v.command === 'openModelFolder' && typeof v.path === 'string' && v.path.length > 0) {
    return { t: 'evt', event: 'app.openModelFolder', payload: { path: v.path } };
  }
  return null;
}

/** The system browser opens only http(s) links; main checks again. */
export function isWebLink(url: unknown): url is string {
  if (typeof url !== 'string' || url.length > 8192) return false;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
