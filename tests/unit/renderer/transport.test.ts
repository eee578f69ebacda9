// The transport picker and its error mapping: which pipe it picks, how a
// WebSocket queues and parses, and what the user is told when the socket
// never opens (wrong token, nothing there) or closes later.
import { describe, expect, it, vi } from 'vitest';
import { createClient } from '../../../src/shared/client';
import type { DeepenBridge } from '../../../src/shared/bridge';
import type { WireMessage } from '../../../src/shared/protocol';
import { describeClose, pickTransport, webSocketTransport, type ConnectionProblem, type SocketLike } from '../../../src/renderer/src/api/transport';

type Listener = (ev: { data?: unknown; code?: number; reason?: string }) => void;

/** A browser-like WebSocket we drive by hand. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closedWith: { code?: number; reason?: string } | null = null;
  private listeners = new Map<string, Listener[]>();
  constructor(readonly url: string) {}
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send before open');
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  fire(type: 'open' | 'message' | 'close' | 'error', ev: { data?: unknown; code?: number; reason?: string } = {}): void {
    if (type === 'open') this.readyState = 1;
    if (type === 'close') this.readyState = 3;
    for (const l of this.listeners.get(type) ?? []) l(ev);
  }
}

function socketTransport(probeStatus: number | null | 'throws' = 200) {
  let socket!: FakeSocket;
  const problems: ConnectionProblem[] = [];
  const closeReasons: string[] = [];
  const probe = vi.fn(async () => {
    if (probeStatus === 'throws') throw new TypeError('Failed to fetch');
    return probeStatus;
  });
  let opened = 0;
  const transport = webSocketTransport('ws://127.0.0.1:4173/ws', { createSocket: (u) => (socket = new FakeSocket(u)), probe }, (p) => problems.push(p), () => opened++);
  transport.onClose((r) => closeReasons.push(r));
  return { transport, socket: () => socket, problems, closeReasons, probe, opened: () => opened };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const req = (id: number): WireMessage => ({ t: 'req', id, method: 'engine.ping', params: {} });

describe('describeClose', () => {
  it('tells an Electron user to restart the app', () => {
    const p = describeClose({ via: 'electron', opened: true, reason: 'the engine process exited' });
    expect(p.kind).toBe('closed');
    expect(p.title).toBe('The engine is not reachable');
    expect(p.detail).toContain('the engine process exited');
    expect(p.detail).toContain('Restart Deepen');
  });

  it('maps a socket refused while the origin answers 401 to the access-token message', () => {
    const p = describeClose({ via: 'websocket', opened: false, code: 1006, probe: 'unauthorized' });
    expect(p.kind).toBe('unauthorized');
    expect(p.detail).toContain('This page needs the access token: open the URL printed by `deepen serve`');
  });

  it('treats a refused upgrade as a token problem even when plain HTTP passes (the server refuses sockets only for the token)', () => {
    expect(describeClose({ via: 'websocket', opened: false, probe: 'ok' }).kind).toBe('unauthorized');
  });

  it('says nothing answers when the origin is down too', () => {
    const p = describeClose({ via: 'websocket', opened: false, probe: 'unreachable' });
    expect(p.kind).toBe('unreachable');
    expect(p.detail).toMatch(/The engine is not reachable.*deepen serve/);
  });

  it('explains a connection that closed after it worked, with the code when there is no reason', () => {
    const p = describeClose({ via: 'websocket', opened: true, code: 1006 });
    expect(p.kind).toBe('closed');
    expect(p.title).toBe('The engine is not reachable');
    expect(p.detail).toContain('(code 1006)');
    expect(p.detail).toMatch(/restart it|reload/);
    expect(describeClose({ via: 'websocket', opened: true, code: 1001, reason: 'server shutting down' }).detail).toContain('(server shutting down)');
  });
});

describe('webSocketTransport', () => {
  it('queues messages until the socket opens, then sends them in order', () => {
    const t = socketTransport();
    t.transport.send(req(1));
    t.transport.send(req(2));
    expect(t.socket().sent).toEqual([]);
    t.socket().fire('open');
    expect(t.opened()).toBe(1);
    expect(t.socket().sent.map((s) => JSON.parse(s).id)).toEqual([1, 2]);
    t.transport.send(req(3));
    expect(t.socket().sent).toHaveLength(3);
  });

  it('hands parsed messages on and drops text that is not a message', () => {
    const t = socketTransport();
    const got: WireMessage[] = [];
    t.transport.onMessage((m) => got.push(m));
    t.socket().fire('open');
    t.socket().fire('message', { data: 'not json' });
    t.socket().fire('message', { data: '42' });
    t.socket().fire('message', { data: new ArrayBuffer(4) });
    t.socket().fire('message', { data: JSON.stringify({ t: 'evt', event: 'job.updated', payload: { id: 'x' } }) });
    expect(got).toEqual([{ t: 'evt', event: 'job.updated', payload: { id: 'x' } }]);
  });

  it('a socket that closes before opening asks the origin, and a 401 means the token', async () => {
    const t = socketTransport(401);
    t.socket().fire('error');
    t.socket().fire('close', { code: 1006, reason: '' });
    await settle();
    expect(t.probe).toHaveBeenCalledOnce();
    expect(t.problems.map((p) => p.kind)).toEqual(['unauthorized']);
    expect(t.closeReasons).toEqual(['the access token was refused']);
  });

  it('a socket that never opens and an origin that does not answer means the engine is not running', async () => {
    for (const status of [null, 'throws'] as const) {
      const t = socketTransport(status);
      t.socket().fire('close', { code: 1006 });
      await settle();
      expect(t.problems.map((p) => p.kind)).toEqual(['unreachable']);
      expect(t.closeReasons).toEqual(['nothing answers at this address']);
    }
  });

  it('a socket that closes after it opened is a closed engine, without probing', async () => {
    const t = socketTransport(401);
    t.socket().fire('open');
    t.socket().fire('close', { code: 1006 });
    t.socket().fire('close', { code: 1006 });
    await settle();
    expect(t.probe).not.toHaveBeenCalled();
    expect(t.problems).toHaveLength(1);
    expect(t.problems[0].kind).toBe('closed');
  });

  it('rejects pending and later calls of the shared client with engine_closed', async () => {
    const t = socketTransport();
    const api = createClient(t.transport);
    const closedWith: string[] = [];
    api.onClose((r) => closedWith.push(r));
    t.socket().fire('open');
    const pending = api.call('engine.ping', {});
    t.socket().fire('close', { code: 1006 });
    await expect(pending).rejects.toMatchObject({ code: 'engine_closed' });
    await expect(api.call('jobs.list', {})).rejects.toMatchObject({ code: 'engine_closed' });
    expect(api.closed).toBe(true);
    expect(closedWith).toEqual(['the connection closed']);
  });

  it('answers a call once the socket opens', async () => {
    const t = socketTransport();
    const api = createClient(t.transport);
    const answer = api.call('engine.ping', {});
    t.socket().fire('open');
    const sent = JSON.parse(t.socket().sent[0]);
    t.socket().fire('message', { data: JSON.stringify({ t: 'res', id: sent.id, ok: true, result: { time: 7 } }) });
    await expect(answer).resolves.toEqual({ time: 7 });
  });
});

describe('pickTransport', () => {
  const page = (protocol: string, extra: Partial<{ deepen: DeepenBridge }> = {}) => {
    const sockets: FakeSocket[] = [];
    const env = {
      location: { protocol, host: 'box:4173', origin: `${protocol}//box:4173` },
      WebSocket: class extends FakeSocket {
        constructor(url: string) {
          super(url);
          sockets.push(this);
        }
      },
      fetch: vi.fn(async () => ({ status: 401 })),
      ...extra,
    };
    return { env, sockets };
  };

  it('uses a WebSocket to /ws on the page origin (wss under https) and probes that origin', async () => {
    for (const [protocol, expected] of [
      ['http:', 'ws://box:4173/ws'],
      ['https:', 'wss://box:4173/ws'],
    ]) {
      const { env, sockets } = page(protocol);
      const problems: ConnectionProblem[] = [];
      const picked = pickTransport(env, { onOpen: () => {}, onProblem: (p) => problems.push(p) });
      expect(picked.via).toBe('websocket');
      expect(sockets[0].url).toBe(expected);
      sockets[0].fire('close', { code: 1006 });
      await settle();
      expect(env.fetch).toHaveBeenCalledWith(`${protocol}//box:4173/`, expect.objectContaining({ method: 'HEAD' }));
      expect(problems[0].kind).toBe('unauthorized');
    }
  });

  it("prefers the desktop app's bridge, which is open at once and reports the engine's exit", () => {
    let deliver: (m: WireMessage) => void = () => {};
    let closeBridge: (reason: string) => void = () => {};
    const bridge: DeepenBridge = {
      send: vi.fn(),
      onMessage: (h) => void (deliver = h),
      onClose: (h) => void (closeBridge = h),
      openExternal: vi.fn(),
      pickPath: vi.fn(async () => null),
    };
    const { env, sockets } = page('file:', { deepen: bridge });
    const problems: ConnectionProblem[] = [];
    let opened = 0;
    const { transport, via } = pickTransport(env, { onOpen: () => opened++, onProblem: (p) => problems.push(p) });
    expect(via).toBe('electron');
    expect(opened).toBe(1);
    expect(sockets).toHaveLength(0);

    const got: WireMessage[] = [];
    transport.onMessage((m) => got.push(m));
    const reasons: string[] = [];
    transport.onClose((r) => reasons.push(r));
    transport.send(req(1));
    expect(bridge.send).toHaveBeenCalledWith(req(1));
    deliver({ t: 'evt', event: 'job.updated', payload: {} });
    expect(got).toHaveLength(1);
    closeBridge('the engine process exited (code 1)');
    expect(reasons).toEqual(['the engine process exited (code 1)']);
    expect(problems[0]).toMatchObject({ kind: 'closed', title: 'The engine is not reachable' });
  });
});
