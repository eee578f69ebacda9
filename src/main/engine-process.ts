// The engine runs in an Electron utility process (out/native/engine.js), not
// in main: its native calls (ONNX Runtime, SQLite) and worker threads must
// never stall the window's event loop, and a crash there must not take the
// app down. Main only starts it, hands it one MessagePort per window and
// stops it.
import { utilityProcess, type MessagePortMain, type UtilityProcess } from 'electron';
import fs from 'node:fs';

export interface EngineStartOptions {
  /** out/native/engine.js */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** how long to wait for `ready` before calling the start failed */
  readyTimeoutMs?: number;
}

/** A start that did not reach `ready`: the engine's own message, or why we gave up. */
export class EngineStartError extends Error {
  constructor(
    message: string,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'EngineStartError';
  }
}

type ExitHandler = (info: { code: number; stderrTail: string }) => void;

const STDERR_KEEP = 4000;

export class EngineProcess {
  private child: UtilityProcess | null = null;
  private ready = false;
  private stopping = false;
  private stderrTail = '';
  private exitHandlers = new Set<ExitHandler>();
  /** the data folder the running engine reported */
  dataDir: string | null = null;

  constructor(private readonly options: EngineStartOptions) {}

  get running(): boolean {
    return this.child !== null && this.ready;
  }

  /** Forks the engine and resolves once it says `ready`; rejects on `fatal`, early exit or timeout. */
  start(): Promise<void> {
    if (this.child) return Promise.reject(new Error('the engine is already started'));
    // `electron-vite dev` and a fresh checkout do not build the engine bundle; say so instead of a bare exit code.
    if (!fs.existsSync(this.options.entry)) {
      return Promise.reject(new EngineStartError(`The engine is not built: ${this.options.entry} is missing. Run \`npm run build\` in the Deepen folder.`, ''));
    }
    this.ready = false;
    this.stopping = false;
    this.stderrTail = '';
    const child = utilityProcess.fork(this.options.entry, [], {
      env: this.options.env,
      // piped so that a failed start can show the engine's last words
      stdio: 'pipe',
      serviceName: 'Deepen engine',
    });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_KEEP);
    });

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          this.stopping = true; // whatever happens next to this child is not a crash to report
          child.kill();
          reject(err);
        } else {
          resolve();
        }
      };
      const timeoutMs = this.options.readyTimeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        settle(new EngineStartError(`The engine did not start within ${Math.round(timeoutMs / 1000)} s.`, this.stderrTail));
      }, timeoutMs);

      child.on('message', (msg: unknown) => {
        const m = (msg ?? {}) as { type?: unknown; dataDir?: unknown; message?: unknown };
        if (m.type === 'ready') {
          this.ready = true;
          this.dataDir = typeof m.dataDir === 'string' ? m.dataDir : null;
          settle(null);
        } else if (m.type === 'fatal') {
          settle(new EngineStartError(typeof m.message === 'string' ? m.message : 'The engine failed to start.', this.stderrTail));
        }
      });
      child.on('exit', (code: number) => {
        const wasReady = this.ready;
        const expected = this.stopping;
        if (this.child === child) {
          this.child = null;
          this.ready = false;
        }
        if (!settled) {
          settle(new EngineStartError(`The engine exited with code ${code} while starting.`, this.stderrTail));
          return;
        }
        if (wasReady && !expected) this.exitHandlers.forEach((h) => h({ code, stderrTail: this.stderrTail }));
      });
    });
  }

  /** Hands one end of a window's channel to the engine, which serves the contract on it. */
  connect(port: MessagePortMain): void {
    if (!this.child || !this.ready) {
      port.close();
      throw new Error('the engine is not running');
    }
    this.child.postMessage({ type: 'connect' }, [port]);
  }

  /** Called when the engine exits without being asked to (a crash or an out-of-memory kill). */
  onUnexpectedExit(handler: ExitHandler): () => void {
    this.exitHandlers.add(handler);
    return () => this.exitHandlers.delete(handler);
  }

  /**
   * Asks the engine to finish (it marks running jobs interrupted and closes
   * the database cleanly), then kills it if it has not exited in time.
   */
  stop(timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return Promise.resolve();
    this.stopping = true;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill();
        resolve();
      }, timeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        child.postMessage({ type: 'shutdown' });
      } catch {
        child.kill();
      }
    });
  }
}
