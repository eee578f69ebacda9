// The sandboxed preload: exposes `window.deepen` (DeepenBridge) and nothing
// else — no ipcRenderer, no catch-all API. Contract traffic goes over a
// MessagePort that main hands us once it has checked this page; we filter
// both directions. Built as CommonJS (sandboxed preloads cannot be ESM) and
// must import no node builtins: a sandboxed preload only has `electron`.
import { contextBridge, ipcRenderer } from 'electron';
import type { DeepenBridge } from '../shared/bridge';
import { bridgeKey } from '../shared/bridge';
import type { WireMessage } from '../shared/protocol';
import { ipcChannels } from './channels';
import { incomingMessage, isWebLink, menuEvent, outgoingRequest } from './filter';

/** The DOM MessagePort as Electron delivers it to the renderer (with its non-standard `close` event). */
interface PagePort {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: () => void): void;
  start(): void;
  close(): void;
}

// Requests made before the port arrives (the page starts calling at once)
// wait here; bounded so that a page spinning without an engine cannot grow it forever.
const MAX_QUEUED = 1000;

let port: PagePort | null = null;
let closedReason: string | null = null;
const queued: WireMessage[] = [];
const messageHandlers = new Set<(message: WireMessage) => void>();
const closeHandlers = new Set<(reason: string) => void>();

function deliver(message: WireMessage): void {
  for (const h of messageHandlers) {
    try {
      h(message);
    } catch (err) {
      console.error('deepen: a message handler threw', err);
    }
  }
}

function reportClose(reason: string): void {
  if (closedReason !== null) return;
  closedReason = reason || 'the engine closed the connection';
  queued.length = 0;
  port?.close();
  port = null;
  for (const h of closeHandlers) h(closedReason);
}

function post(message: WireMessage): void {
  try {
    port!.postMessage(message);
  } catch (err) {
    // not cloneable (a function or a DOM node in params): the caller gets no answer, so say why
    console.error(`deepen: could not send ${(message as { method?: string }).method ?? 'a message'} to the engine`, err);
  }
}

ipcRenderer.on(ipcChannels.port, (event) => {
  const received = event.ports[0] as unknown as PagePort | undefined;
  if (!received) return;
  if (port || closedReason !== null) {
    received.close(); // one connection per page load
    return;
  }
  port = received;
  port.addEventListener('message', (e) => {
    const message = incomingMessage(e.data);
    if (message) deliver(message);
  });
  port.addEventListener('close', () => reportClose('the engine closed the connection'));
  port.start();
  for (const m of queued.splice(0)) post(m);
});

ipcRenderer.on(ipcChannels.closed, (_event, reason: unknown) => {
  reportClose(typeof reason === 'string' ? reason : 'the engine stopped');
});

ipcRenderer.on(ipcChannels.menu, (_event, command: unknown) => {
  const message = menuEvent(command);
  if (message) deliver(message);
});

const bridge: DeepenBridge = {
  send(message) {
    const request = outgoingRequest(message);
    if (!request) {
      console.warn('deepen: dropped a message that is not a request for a method of the contract');
      return;
    }
    if (closedReason !== null) return; // the client has already failed its pending calls
    if (port) post(request);
    else if (queued.length < MAX_QUEUED) queued.push(request);
  },
  onMessage(handler) {
    if (typeof handler === 'function') messageHandlers.add(handler);
  },
  onClose(handler) {
    if (typeof handler !== 'function') return;
    closeHandlers.add(handler);
    if (closedReason !== null) handler(closedReason);
  },
  openExternal(url) {
    if (isWebLink(url)) ipcRenderer.send(ipcChannels.openExternal, url);
  },
  async pickPath(options) {
    const result: unknown = await ipcRenderer.invoke(ipcChannels.pickPath, options);
    return typeof result === 'string' ? result : null;
  },
};

contextBridge.exposeInMainWorld(bridgeKey, bridge);
ipcRenderer.send(ipcChannels.hello);
