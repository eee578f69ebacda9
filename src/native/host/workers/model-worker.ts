// Entry of a model worker thread: holds one loaded model for as long as it
// stays loaded and answers its generation requests one at a time (they share
// the model's KV cache). InferenceSession.run is synchronous native work, so
// it happens here and never on the engine thread, which stays free to stream
// tokens, answer the UI and take a stop.
import { parentPort } from 'node:worker_threads';
import { DeepenError, toErrorInfo } from '../../../shared/errors';
import { TextModel } from '../chat/text-model';
import { TEXT_FLUSH_MS, type HostToModel, type ModelToHost, type WorkerAnswer, type WorkerGenerateRequest } from '../chat/worker-protocol';

const port = parentPort!;
const post = (m: ModelToHost) => port.postMessage(m);

let model: TextModel | null = null;
const queue: WorkerGenerateRequest[] = [];
let running = false;

port.on('message', (m: HostToModel) => {
  if (m.t === 'load') void load(m.options);
  else if (m.t === 'generate') {
    queue.push(m);
    void pump();
  } else if (m.t === 'dispose') void dispose();
});

async function load(options: Extract<HostToModel, { t: 'load' }>['options']): Promise<void> {
  try {
    if (model) throw new DeepenError('conflict', 'This worker already holds a model.');
    let last = 0;
    model = await TextModel.load(options.dir, {
      ...options,
      onProgress: (fraction, message) => {
        // Weight conversion reports per tensor; a few updates a second are plenty.
        const now = Date.now();
        if (now - last < 100 && fraction < 1) return;
        last = now;
        post({ t: 'progress', fraction, message });
      },
    });
    post({ t: 'loaded', facts: model.facts() });
  } catch (err) {
    post({ t: 'load-failed', error: toErrorInfo(err) });
  }
}

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (queue.length) await answer(queue.shift()!);
  } finally {
    running = false;
  }
}

async function answer(req: WorkerGenerateRequest): Promise<void> {
  const flag = new Int32Array(req.cancelFlag);
  const cancelled = () => Atomics.load(flag, 0) === 1;
  let streamed = '';
  let pending = '';
  let pendingTokens = 0;
  let lastFlush = 0;
  const flush = () => {
    if (!pending && !pendingTokens) return;
    post({ t: 'text', requestId: req.requestId, delta: pending, tokens: pendingTokens });
    pending = '';
    pendingTokens = 0;
    lastFlush = Date.now();
  };
  if (cancelled()) return post({ t: 'done', requestId: req.requestId, answer: emptyAnswer() });
  post({ t: 'started', requestId: req.requestId });
  try {
    if (!model) throw new DeepenError('engine_closed', 'The model is not loaded (any more). Load it again from the model picker.');
    const result = await model.run({
      input: req.input,
      sampling: req.sampling,
      ignoreEos: req.ignoreEos,
      isCancelled: cancelled,
      onToken: () => void pendingTokens++,
      onText: (delta) => {
        streamed += delta;
        pending += delta;
        if (Date.now() - lastFlush >= TEXT_FLUSH_MS) flush();
      },
    });
    flush();
    const s = result.stats;
    post({
      t: 'done',
      requestId: req.requestId,
      answer: {
        text: result.text,
        promptIds: result.promptIds,
        newIds: result.newIds,
        stopReason: result.stopReason,
        seed: result.seed,
        mode: result.mode,
        note: result.note,
        droppedMessages: result.droppedMessages,
        stats: {
          promptTokens: s.promptTokens,
          generatedTokens: s.generatedTokens,
          timeToFirstTokenMs: s.timeToFirstTokenMs,
          prefillTokensPerSecond: Number.isFinite(s.prefillTokensPerSecond) ? s.prefillTokensPerSecond : 0,
          decodeTokensPerSecond: s.decodeTokensPerSecond,
          totalMs: s.totalMs,
        },
      },
    });
  } catch (err) {
    flush();
    post({ t: 'failed', requestId: req.requestId, error: toErrorInfo(err), text: streamed });
  }
}

function emptyAnswer(): WorkerAnswer {
  return {
    text: '',
    promptIds: [],
    newIds: [],
    stopReason: 'cancelled',
    seed: null,
    mode: null,
    note: null,
    droppedMessages: 0,
    stats: { promptTokens: 0, generatedTokens: 0, timeToFirstTokenMs: 0, prefillTokensPerSecond: 0, decodeTokensPerSecond: null, totalMs: 0 },
  };
}

async function dispose(): Promise<void> {
  try {
    await model?.dispose();
  } finally {
    model = null;
    post({ t: 'disposed' });
  }
}
