// EngineProcess and EngineLink against a stand-in for Electron's
// utilityProcess: the start/ready/fatal/exit/shutdown protocol with
// out/native/engine.js, without an Electron binary.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

class FakeChild extends EventEmitter {
  posted: { message: unknown; transfer?: unknown[] }[] = [];
  killed = false;
  stdout = new EventEmitter();
  stderr = new EventEmitter();
  postMessage(message: unknown, transfer?: unknown[]) {
    this.posted.push({ message, transfer });
  }
  kill() {
    this.killed = true;
    queueMicrotask(() => this.emit('exit', 9));
    return true;
  }
}

class FakePort {
  closed = false;
  close() {
    this.closed = true;
  }
}

const forks: { entry: string; options: { env?: NodeJS.ProcessEnv } ; child: FakeChild }[] = [];
vi.mock('electron', () => ({
  utilityProcess: {
    fork: (entry: string, _args: string[], options: { env?: NodeJS.ProcessEnv }) => {
      const child = new FakeChild();
      forks.push({ entry, options, child });
      return child;
    },
  },
  MessageChannelMain: class {
    port1 = new FakePort();
    port2 = new FakePort();
  },
}));

const { EngineProcess, EngineStartError } = await import('../../../src/main/engine-process');
// any file that exists stands in for out/native/engine.js
const entry = __filename;
const { EngineLink } = await import('../../../src/main/engine-link');

function fakeContents() {
  return {
    sent: [] as unknown[][],
    posted: [] as { channel: string; transfer: unknown[] }[],
    isDestroyed: () => false,
    send(...args: unknown[]) {
      this.sent.push(args);
    },
    postMessage(channel: string, _message: unknown, transfer: unknown[]) {
      this.posted.push({ channel, transfer });
    },
  };
}

beforeEach(() => {
  forks.length = 0;
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

describe('EngineProcess', () => {
  it('forks the engine entry with the given environment and resolves on ready', async () => {
    const engine = new EngineProcess({ entry, env: { DEEPEN_HOME: '/data' } });
    const started = engine.start();
    expect(forks[0].entry).toBe(entry);
    expect(forks[0].options.env).toEqual({ DEEPEN_HOME: '/data' });
    forks[0].child.emit('message', { type: 'ready', dataDir: '/data' });
    await started;
    expect(engine.running).toBe(true);
    expect(engine.dataDir).toBe('/data');
  });

  it('rejects with the engine\'s own message on fatal, with its last stderr lines', async () => {
    const engine = new EngineProcess({ entry, env: {} });
    const started = engine.start();
    forks[0].child.stderr.emit('data', Buffer.from('NODE_MODULE_VERSION 115 vs 139\n'));
    forks[0].child.emit('message', { type: 'fatal', message: 'Could not open the database' });
    const err = await started.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineStartError);
    expect((err as Error).message).toBe('Could not open the database');
    expect((err as InstanceType<typeof EngineStartError>).stderrTail).toContain('NODE_MODULE_VERSION');
    expect(forks[0].child.killed).toBe(true);
  });

  it('rejects when the engine exits or stays silent while starting', async () => {
    const a = new EngineProcess({ entry, env: {} });
    const startA = a.start();
    forks[0].child.emit('exit', 1);
    await expect(startA).rejects.toThrow(/exited with code 1 while starting/);

    vi.useFakeTimers();
    try {
      const b = new EngineProcess({ entry, env: {}, readyTimeoutMs: 1000 });
      const startB = b.start();
      const failed = expect(startB).rejects.toThrow(/did not start within 1 s/);
      await vi.advanceTimersByTimeAsync(1001);
      await failed;
    } finally {
      vi.useRealTimers();
    }
  });

  it('says the engine is not built when its bundle is missing, without forking', async () => {
    const engine = new EngineProcess({ entry: '/nowhere/out/native/engine.js', env: {} });
    await expect(engine.start()).rejects.toThrow(/not built: \/nowhere\/out\/native\/engine.js is missing. Run `npm run build`/);
    expect(forks).toHaveLength(0);
  });

  it('reports an unexpected exit after ready, but not one it asked for', async () => {
    const engine = new EngineProcess({ entry, env: {} });
    const exits: number[] = [];
    engine.onUnexpectedExit(({ code }) => exits.push(code));

    let started = engine.start();
    forks[0].child.emit('message', { type: 'ready' });
    await started;
    forks[0].child.emit('exit', 134);
    expect(exits).toEqual([134]);
    expect(engine.running).toBe(false);

    started = engine.start();
    forks[1].child.emit('message', { type: 'ready' });
    await started;
    const stopped = engine.stop(1000);
    expect(forks[1].child.posted.at(-1)?.message).toEqual({ type: 'shutdown' });
    forks[1].child.emit('exit', 0);
    await stopped;
    expect(exits).toEqual([134]);
  });

  it('kills an engine that does not finish after shutdown', async () => {
    const engine = new EngineProcess({ entry, env: {} });
    const started = engine.start();
    forks[0].child.emit('message', { type: 'ready' });
    await started;
    vi.useFakeTimers();
    try {
      const stopped = engine.stop(5000);
      await vi.advanceTimersByTimeAsync(5001);
      await stopped;
      expect(forks[0].child.killed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('EngineLink', () => {
  it('gives a page one end of a new channel once the engine is ready, and the engine the other', async () => {
    const engine = new EngineProcess({ entry, env: {} });
    const link = new EngineLink(engine);
    const started = link.start();
    const page = fakeContents();
    link.connect(page as never); // the page said hello before the engine was ready
    forks[0].child.emit('message', { type: 'ready' });
    await started;
    await new Promise((r) => setTimeout(r, 0));
    const toEngine = forks[0].child.posted.find((p) => (p.message as { type: string }).type === 'connect');
    expect(toEngine?.transfer).toHaveLength(1);
    expect(page.posted).toHaveLength(1);
    expect(page.posted[0].channel).toBe('deepen:port');
    expect(page.posted[0].transfer[0]).not.toBe(toEngine?.transfer?.[0]);
  });

  it('tells a page why, when the engine could not start', async () => {
    const engine = new EngineProcess({ entry, env: {} });
    const link = new EngineLink(engine);
    const started = link.start();
    forks[0].child.emit('message', { type: 'fatal', message: 'database is from a newer Deepen' });
    await started.catch(() => {});
    const page = fakeContents();
    link.connect(page as never);
    await new Promise((r) => setTimeout(r, 0));
    expect(page.posted).toHaveLength(0);
    expect(page.sent).toEqual([['deepen:closed', 'the engine could not start: database is from a newer Deepen']]);
  });
});
