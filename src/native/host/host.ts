// The engine host: owns the database and the job manager, implements the
// contract through the domain handler tables, and serves any number of
// connections (Electron MessagePort, WebSocket, in-process for the CLI and
// tests). Every connection receives every event.
import { DeepenError, toErrorInfo } from '../../shared/errors';
import { isMethodName, type EventName, type MethodName, type ParamsOf, type PayloadOf, type ResultOf } from '../../shared/contract/index';
import { isWireMessage, type Transport, type WireMessage } from '../../shared/protocol';
import { openDatabase, type Db } from '../data/db';
import { engineHandlers } from './handlers/engine';
import { jobHandlers } from './handlers/jobs';
import { modelHandlers } from './handlers/models';
import { datasetHandlers } from './handlers/datasets';
import { chatHandlers, closeChat } from './handlers/chat';
import { JobManager } from './jobs/job-manager';
import { databaseFileIn } from './paths';
import { ProviderState } from './providers';
import type { HostServices } from './services';

type AnyHandler = (params: unknown) => unknown;

export interface HostOptions {
  dataDir: string;
  maxConcurrentJobs?: number;
  cancelGraceMs?: number;
}

export class EngineHost {
  readonly db: Db;
  readonly jobs: JobManager;
  readonly dataDir: string;
  readonly providers = new ProviderState();
  private readonly handlers: Record<string, AnyHandler>;
  private readonly connections = new Set<(m: WireMessage) => void>();
  private readonly localListeners = new Set<(event: EventName, payload: unknown) => void>();
  private readonly resumers: (() => void)[] = [];
  private closed = false;

  constructor(opts: HostOptions) {
    this.dataDir = opts.dataDir;
    const databaseFile = databaseFileIn(opts.dataDir);
    this.db = openDatabase(databaseFile);
    // Leave WAL checkpoints to the jobs' connections, which write in bulk: done
    // by this connection's next small commit, a checkpoint after an import's
    // batches stalled the engine's thread up to ~250 ms (4 MB default
    // threshold); with 64 MB the stalls during a 100 MB import and its search
    // indexing stay under ~40 ms.
    this.db.pragma('wal_autocheckpoint = 16384');
    this.jobs = new JobManager(
      this.db,
      {
        updated: (job) => this.emit('job.updated', job),
        log: (jobId, line) => this.emit('job.log', { jobId, line }),
        metric: (jobId, name, value, step) => this.emit('job.metric', { jobId, name, value, step }),
      },
      { dataDir: opts.dataDir, maxConcurrent: opts.maxConcurrentJobs, cancelGraceMs: opts.cancelGraceMs },
    );
    const services: HostServices = {
      db: this.db,
      jobs: this.jobs,
      dataDir: opts.dataDir,
      databaseFile,
      emit: (event, payload) => this.emit(event, payload),
      atResume: (fn) => this.resumers.push(fn),
    };
    this.handlers = {
      ...engineHandlers(services, this.providers),
      ...jobHandlers(services),
      ...modelHandlers(services),
      ...datasetHandlers(services),
      ...chatHandlers(services),
    } as Record<string, AnyHandler>;
  }

  /** Picks up work left unfinished by the last run (long-lived engines only: the app and `deepen serve`). */
  resumeWork(): void {
    for (const fn of this.resumers) fn();
  }

  /** Calls a contract method in-process (CLI, tests), with the same checks as a remote call. */
  async call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return (await this.dispatch(method, params)) as ResultOf<M>;
  }

  /** Subscribes in-process to every event (CLI progress bars, tests). */
  onEvent(listener: (event: EventName, payload: unknown) => void): () => void {
    this.localListeners.add(listener);
    return () => this.localListeners.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: PayloadOf<E>): void {
    const msg: WireMessage = { t: 'evt', event, payload };
    for (const send of this.connections) send(msg);
    for (const l of this.localListeners) l(event, payload);
  }

  /** Serves one connection until it closes. */
  connect(transport: Transport): void {
    const send = (m: WireMessage) => {
      try {
        transport.send(m);
      } catch {
        // a connection that went away mid-send is dropped on its close event
      }
    };
    this.connections.add(send);
    transport.onClose(() => this.connections.delete(send));
    transport.onMessage(async (msg) => {
      if (!isWireMessage(msg) || msg.t !== 'req') return;
      try {
        const result = await this.dispatch(msg.method, msg.params);
        send({ t: 'res', id: msg.id, ok: true, result: result ?? null });
      } catch (err) {
        send({ t: 'res', id: msg.id, ok: false, error: toErrorInfo(err) });
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeChat(this.db);
    await this.jobs.close();
    this.db.close();
  }

  private async dispatch(method: string, params: unknown): Promise<unknown> {
    if (this.closed) throw new DeepenError('engine_closed', 'The engine is shutting down.');
    if (!isMethodName(method)) throw new DeepenError('bad_request', `Unknown method "${method}".`);
    const handler = this.handlers[method];
    if (!handler) throw new DeepenError('internal', `Method "${method}" has no handler.`);
    return handler(params ?? {});
  }
}
