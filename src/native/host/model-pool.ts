// The model pool: models loaded for chat, each in its own persistent worker
// thread (InferenceSession.run blocks the thread it runs on; the engine
// thread must stay free to stream, answer the UI and take a stop).
//
// Loading is refused up front when the estimate does not fit in free memory;
// otherwise it shows as a `model-load` job (progress, log, cancel) while the
// model worker does the work; the job relays over a BroadcastChannel (see
// jobs/model-load-job.ts). Generation requests go to the model's worker, text
// comes back in small batches, and a stop sets a SharedArrayBuffer flag the
// worker reads between tokens.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { DeepenError, toErrorInfo, type ErrorInfo } from '../../shared/errors';
import type { ChatSampling, LoadEstimate, LoadParams, PoolModel } from '../../shared/contract/chat';
import type { ProviderName } from '../../shared/contract/engine';
import type { Db } from '../data/db';
import { requireModel, type ModelRecord } from '../data/models';
import { chatContextLength, estimateChatMemory, freeMemoryBytes } from './chat/memory';
import type { TextModelFacts, TextRequestInput } from './chat/text-model';
import type { HostToModel, ModelToHost, WorkerAnswer } from './chat/worker-protocol';
import type { JobManager } from './jobs/job-manager';
import type { LoadChannelMessage } from './jobs/model-load-job';
import { workerEntry } from './worker-entry';

export interface ModelPoolOptions {
  db: Db;
  jobs: JobManager;
  dataDir: string;
  /** the provider Settings asks for */
  provider: () => ProviderName;
  onChange: (modelId: string, model: PoolModel | null) => void;
  /** memory free for models (tests pass a small number) */
  freeMemory?: () => number;
  headroomBytes?: number;
}

export interface GenerationCallbacks {
  onStart?(): void;
  onText(delta: string, tokens: number): void;
  onDone(answer: WorkerAnswer): void;
  onError(error: ErrorInfo, streamedText: string): void;
}

export interface PoolRequest {
  input: TextRequestInput;
  sampling: ChatSampling;
  ignoreEos?: boolean;
  requestId?: string;
}

interface Entry {
  info: PoolModel;
  worker: Worker;
  channel: BroadcastChannel | null;
  requests: Map<string, { flag: Int32Array; callbacks: GenerationCallbacks; streamed: string }>;
  lastEmit: number;
  /** resolves when the thread has ended */
  exited: Promise<void>;
  /** the load job is running and listening on the channel */
  begun: boolean;
}

export class ModelPool {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly opts: ModelPoolOptions) {}

  list(): PoolModel[] {
    return [...this.entries.values()].map((e) => ({ ...e.info }));
  }

  get(modelId: string): PoolModel | null {
    const e = this.entries.get(modelId);
    return e ? { ...e.info } : null;
  }

  /** A loaded model by registry id or (unique) name, for the OpenAI endpoints. */
  find(idOrName: string): PoolModel | null {
    const byId = this.entries.get(idOrName);
    if (byId) return { ...byId.info };
    const named = [...this.entries.values()].filter((e) => e.info.name === idOrName);
    return named.length === 1 ? { ...named[0].info } : null;
  }

  estimate(p: LoadParams): LoadEstimate {
    const record = requireModel(this.opts.db, p.modelId);
    return this.estimateFor(record, p, this.opts.provider());
  }

  /** Starts loading; throws `out_of_memory` with the numbers when it would not fit. */
  load(p: LoadParams): { jobId: string; model: PoolModel } {
    if (this.closed) throw new DeepenError('engine_closed', 'The engine is shutting down.');
    const record = requireModel(this.opts.db, p.modelId);
    const existing = this.entries.get(record.id);
    if (existing && existing.info.state !== 'failed') return { jobId: existing.info.jobId ?? '', model: { ...existing.info } };
    if (existing) void this.drop(record.id);

    const provider = this.opts.provider();
    const estimate = this.estimateFor(record, p, provider);
    if (!estimate.fits) throw new DeepenError('out_of_memory', estimate.explanation, { estimate });

    const entryWorker = workerEntry('model-worker', {});
    const worker = new Worker(entryWorker.url, { workerData: entryWorker.workerData });
    worker.unref(); // a loaded model must not keep a finished process alive
    const channelName = `deepen-model-load-${randomUUID()}`;
    const channel = new BroadcastChannel(channelName);
    channel.unref();
    const entry: Entry = {
      info: {
        modelId: record.id,
        name: record.name,
        path: record.path,
        state: 'loading',
        progress: 0,
        message: 'Waiting for a job slot',
        jobId: null,
        provider: null,
        requestedProvider: provider,
        fallbackReason: null,
        precision: estimate.precision,
        variant: null,
        contextLength: estimate.contextLength,
        estimate,
        weightsBytes: estimate.weightsBytes,
        memoryBytes: estimate.totalBytes,
        mode: null,
        note: null,
        tokenizerError: null,
        templateError: null,
        error: null,
        loadedAt: null,
        busy: 0,
      },
      worker,
      channel,
      requests: new Map(),
      lastEmit: 0,
      exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())),
      begun: false,
    };
    this.entries.set(record.id, entry);
    const tell = (m: LoadChannelMessage) => entry.channel?.postMessage(m);

    channel.onmessage = (event) => {
      const m = (event as { data: LoadChannelMessage }).data;
      if (m.t === 'begin' && entry.info.state === 'loading') {
        entry.begun = true;
        this.post(entry, {
          t: 'load',
          options: { dir: record.path, provider, precision: estimate.precision, contextLength: estimate.contextLength, cacheDir: path.join(this.opts.dataDir, 'cache', 'onnx') },
        });
        tell({ t: 'log', level: 'info', text: estimate.explanation });
      } else if (m.t === 'cancel' && entry.info.state === 'loading') {
        this.failLoad(entry, { code: 'cancelled', message: `Loading ${record.name} was cancelled.` });
      }
    };
    worker.on('message', (m: ModelToHost) => this.onWorkerMessage(entry, m));
    worker.on('error', (err) => this.onWorkerGone(entry, toErrorInfo(err)));
    worker.on('exit', (code) => this.onWorkerGone(entry, { code: 'internal', message: `The worker holding ${record.name} stopped unexpectedly (exit code ${code}). If it ran out of memory, load it in fp16 or with a shorter context.` }));

    const job = this.opts.jobs.start('model-load', `Load ${record.name} for chat (${provider}, ${estimate.precision})`, { channel: channelName, modelId: record.id, name: record.name });
    entry.info.jobId = job.id;
    // A job cancelled while queued, or one whose worker died, never says `failed` on the channel.
    void this.opts.jobs.wait(job.id).then((final) => {
      if (this.entries.get(record.id) === entry && entry.info.state === 'loading') {
        this.failLoad(entry, final.error ?? { code: 'cancelled', message: `Loading ${record.name} stopped (${final.state}).` });
      }
    });
    this.changed(entry, true);
    return { jobId: job.id, model: { ...entry.info } };
  }

  /** Frees the model's worker (and with it its memory); answers in flight end as stopped. */
  async unload(modelId: string): Promise<boolean> {
    const entry = this.entries.get(modelId);
    if (!entry) return false;
    if (entry.info.state === 'loading') this.failLoad(entry, { code: 'cancelled', message: `Loading ${entry.info.name} was cancelled: it was unloaded.` });
    const gone = this.drop(modelId);
    this.opts.onChange(modelId, null);
    await gone;
    return true;
  }

  generate(modelId: string, req: PoolRequest, callbacks: GenerationCallbacks): string {
    const entry = this.entries.get(modelId);
    if (!entry || entry.info.state === 'failed') {
      throw new DeepenError('not_found', `The model ${modelId} is not loaded. Load it in the model picker (or with chat.load) and send again.`, { modelId });
    }
    if (entry.info.state === 'loading') throw new DeepenError('conflict', `${entry.info.name} is still loading (${Math.round(entry.info.progress * 100)}%). Send again when it is ready.`, { modelId });
    const requestId = req.requestId ?? randomUUID();
    if (this.requestOwner(requestId)) throw new DeepenError('conflict', `A request with id ${requestId} is already running.`);
    const cancelFlag = new SharedArrayBuffer(4);
    entry.requests.set(requestId, { flag: new Int32Array(cancelFlag), callbacks, streamed: '' });
    entry.info.busy = entry.requests.size;
    this.post(entry, { t: 'generate', requestId, input: req.input, sampling: req.sampling, ignoreEos: req.ignoreEos, cancelFlag });
    this.changed(entry, true);
    return requestId;
  }

  /** Stops an answer between two tokens; it ends with stop reason `cancelled`. */
  cancel(requestId: string): boolean {
    const owner = this.requestOwner(requestId);
    if (!owner) return false;
    Atomics.store(owner.requests.get(requestId)!.flag, 0, 1);
    return true;
  }

  isRunning(requestId: string): boolean {
    return this.requestOwner(requestId) !== null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.keys()].map((id) => this.drop(id, { code: 'engine_closed', message: 'The engine shut down while this answer was being written.' })));
  }

  // ------------------------------------------------------------------ internals

  private estimateFor(record: ModelRecord, p: LoadParams, provider: ProviderName): LoadEstimate {
    const precision = p.precision === 'fp32' || p.precision === 'fp16' ? p.precision : provider === 'cpu' ? 'fp32' : 'fp16';
    const shape = record.summary;
    // Loaded models already show in free memory (CPU sessions prepack their weights onto the heap);
    // models still loading do not yet, so their estimates are set aside.
    let committed = 0;
    for (const e of this.entries.values()) if (e.info.modelId !== record.id && e.info.state === 'loading') committed += e.info.estimate.totalBytes;
    const free = Math.max(0, (this.opts.freeMemory ?? freeMemoryBytes)() - committed);
    return estimateChatMemory({
      modelId: record.id,
      name: record.name,
      shape,
      precision,
      contextLength: chatContextLength(shape, p.contextLength),
      freeBytes: free,
      headroomBytes: this.opts.headroomBytes,
    });
  }

  private onWorkerMessage(entry: Entry, m: ModelToHost): void {
    const tell = (msg: LoadChannelMessage) => entry.channel?.postMessage(msg);
    switch (m.t) {
      case 'progress':
        entry.info.progress = m.fraction;
        entry.info.message = m.message;
        tell({ t: 'progress', fraction: m.fraction, message: m.message });
        this.changed(entry, false);
        break;
      case 'loaded':
        this.applyFacts(entry, m.facts);
        tell({ t: 'log', level: 'info', text: `Loaded on ${m.facts.provider} (${m.facts.variant} graph, ${m.facts.precision}), context ${m.facts.contextLength} tokens.` });
        for (const w of [m.facts.fallbackReason, m.facts.tokenizerError?.message, m.facts.templateError?.message]) if (w) tell({ t: 'log', level: 'warn', text: w });
        if (m.facts.note) tell({ t: 'log', level: 'info', text: m.facts.note });
        tell({ t: 'loaded', result: { modelId: entry.info.modelId, provider: m.facts.provider, precision: m.facts.precision, weightsBytes: m.facts.weightsBytes } });
        this.closeChannel(entry);
        this.changed(entry, true);
        break;
      case 'load-failed':
        this.failLoad(entry, m.error);
        break;
      case 'started':
        entry.requests.get(m.requestId)?.callbacks.onStart?.();
        break;
      case 'text': {
        const r = entry.requests.get(m.requestId);
        if (!r) break;
        r.streamed += m.delta;
        r.callbacks.onText(m.delta, m.tokens);
        break;
      }
      case 'done':
      case 'failed': {
        const r = entry.requests.get(m.requestId);
        if (!r) break;
        entry.requests.delete(m.requestId);
        entry.info.busy = entry.requests.size;
        this.changed(entry, true);
        if (m.t === 'done') r.callbacks.onDone(m.answer);
        else r.callbacks.onError(m.error, m.text);
        break;
      }
      case 'disposed':
        void entry.worker.terminate();
        break;
    }
  }

  private applyFacts(entry: Entry, f: TextModelFacts): void {
    const i = entry.info;
    i.state = 'ready';
    i.progress = 1;
    i.message = 'Ready';
    i.provider = f.provider;
    i.fallbackReason = f.fallbackReason;
    i.precision = f.precision;
    i.variant = f.variant;
    i.contextLength = f.contextLength;
    i.weightsBytes = f.weightsBytes;
    i.memoryBytes = i.estimate.totalBytes - i.estimate.weightsBytes + f.weightsBytes;
    i.mode = f.mode;
    i.note = f.note;
    i.tokenizerError = f.tokenizerError;
    i.templateError = f.templateError;
    i.loadedAt = Date.now();
  }

  private failLoad(entry: Entry, error: ErrorInfo): void {
    if (entry.info.state !== 'loading') return;
    entry.info.state = 'failed';
    entry.info.error = error;
    entry.info.message = error.message;
    entry.channel?.postMessage({ t: 'failed', error } satisfies LoadChannelMessage);
    // Before `begin` the job is queued or not listening yet: only its cancel flag reaches it.
    if (!entry.begun && entry.info.jobId) {
      try {
        this.opts.jobs.cancel(entry.info.jobId);
      } catch {
        // already finished
      }
    }
    this.closeChannel(entry);
    void entry.worker.terminate();
    this.changed(entry, true);
  }

  /** The worker went away: fail what it was doing. */
  private onWorkerGone(entry: Entry, error: ErrorInfo): void {
    if (this.entries.get(entry.info.modelId) !== entry) return;
    if (entry.info.state === 'loading') return this.failLoad(entry, error);
    if (entry.info.state === 'failed') return;
    this.failRequests(entry, error);
    entry.info.state = 'failed';
    entry.info.error = error;
    entry.info.message = error.message;
    this.changed(entry, true);
  }

  /** Forgets the model at once; resolves when its thread has gone (and its memory with it). */
  private drop(modelId: string, error: ErrorInfo = { code: 'cancelled', message: 'The model was unloaded while this answer was being written.' }): Promise<void> {
    const entry = this.entries.get(modelId);
    if (!entry) return Promise.resolve();
    this.entries.delete(modelId);
    this.closeChannel(entry);
    this.failRequests(entry, error);
    // Releasing the session first frees device memory cleanly ('disposed' then ends the thread); terminate is the backstop.
    try {
      entry.worker.postMessage({ t: 'dispose' } satisfies HostToModel);
    } catch {
      // already gone
    }
    const backstop = setTimeout(() => void entry.worker.terminate(), 2000);
    backstop.unref();
    return entry.exited.finally(() => clearTimeout(backstop));
  }

  private failRequests(entry: Entry, error: ErrorInfo): void {
    const requests = [...entry.requests.values()];
    entry.requests.clear();
    entry.info.busy = 0;
    for (const r of requests) r.callbacks.onError(error, r.streamed);
  }

  private closeChannel(entry: Entry): void {
    entry.channel?.close();
    entry.channel = null;
  }

  private post(entry: Entry, m: HostToModel): void {
    entry.worker.postMessage(m);
  }

  private requestOwner(requestId: string): Entry | null {
    for (const e of this.entries.values()) if (e.requests.has(requestId)) return e;
    return null;
  }

  /** Progress is sent a few times a second; state changes always. */
  private changed(entry: Entry, always: boolean): void {
    const now = Date.now();
    if (!always && now - entry.lastEmit < 150) return;
    entry.lastEmit = now;
    if (this.entries.get(entry.info.modelId) === entry) this.opts.onChange(entry.info.modelId, { ...entry.info });
  }
}
