// OpenAI-compatible endpoints of `deepen serve`, so existing clients (the
// openai SDKs, curl scripts, editors) can talk to a model loaded in Deepen:
//   GET  /v1/models             loaded models (name and registry id both work as `model`)
//   POST /v1/chat/completions   messages → answer, with the model's chat template
//   POST /v1/completions        prompt text (or token ids) → continuation
// `stream: true` answers as server-sent events (`data: {chunk}` … `data: [DONE]`).
// Errors use OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
// Everything goes through the engine's own contract (chat.generate, chat.cancel
// and their events), with the same access token as the rest of the server.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { DeepenError, toErrorInfo, type ErrorInfo } from '../../shared/errors';
import type { ChatSampling, ChatStopReason, GenerateOutcome, GenerateParams, PoolModel } from '../../shared/contract/chat';
import type { EngineHost } from './host';

const MAX_BODY_BYTES = 8 * 2 ** 20;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** Serves one /v1/* request. `authorized`: the request carried the server's token. */
export async function handleOpenAiRequest(host: EngineHost, req: http.IncomingMessage, res: http.ServerResponse, authorized: boolean): Promise<void> {
  try {
    if (!authorized) {
      throw new ApiError(401, 'Deepen needs its access token: send "Authorization: Bearer <token>" with the token `deepen serve` printed.', 'invalid_request_error', null, 'invalid_api_key');
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname.replace(/\/+$/, '');
    if (route === '/v1/models' || route.startsWith('/v1/models/')) {
      allow(req, 'GET');
      return await listModels(host, res, route === '/v1/models' ? null : decodeURIComponent(route.slice('/v1/models/'.length)));
    }
    if (route === '/v1/chat/completions' || route === '/v1/completions') {
      allow(req, 'POST');
      return await complete(host, req, res, route === '/v1/chat/completions' ? 'chat' : 'text', await readJson(req));
    }
    throw new ApiError(404, `Unknown endpoint ${req.method} ${url.pathname}. Deepen offers /v1/models, /v1/chat/completions and /v1/completions.`, 'invalid_request_error', null, 'unknown_url');
  } catch (err) {
    if (res.headersSent) {
      // Mid-stream: the status is gone; an error event is the only way left to say it.
      if (!res.writableEnded) res.end(`data: ${JSON.stringify({ error: errorBody(err).error })}\n\n`);
      return;
    }
    const status = err instanceof ApiError ? err.status : statusOf(toErrorInfo(err));
    sendJson(res, status, errorBody(err));
  }
}

function allow(req: http.IncomingMessage, method: string): void {
  if (req.method !== method) throw new ApiError(405, `Use ${method} for this endpoint.`, 'invalid_request_error', null, 'method_not_allowed');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `The request body is larger than ${MAX_BODY_BYTES / 2 ** 20} MiB.`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, `The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

async function readyModels(host: EngineHost): Promise<PoolModel[]> {
  return (await host.call('chat.models', {})).filter((m) => m.state === 'ready');
}

async function listModels(host: EngineHost, res: http.ServerResponse, one: string | null): Promise<void> {
  const models = await readyModels(host);
  const entry = (m: PoolModel) => ({
    id: m.name,
    object: 'model',
    created: Math.floor((m.loadedAt ?? Date.now()) / 1000),
    owned_by: 'deepen',
    deepen: { model_id: m.modelId, provider: m.provider, precision: m.precision, context_length: m.contextLength, mode: m.mode },
  });
  if (one === null) return sendJson(res, 200, { object: 'list', data: models.map(entry) });
  const m = models.find((x) => x.modelId === one || x.name === one);
  if (!m) throw modelNotFound(one, models);
  sendJson(res, 200, entry(m));
}

function modelNotFound(name: string, models: PoolModel[]): ApiError {
  const loaded = models.length ? `Loaded: ${models.map((m) => m.name).join(', ')}.` : 'No model is loaded.';
  return new ApiError(404, `The model "${name}" is not loaded in Deepen. ${loaded} Load it on the Chat page or with \`chat.load\`.`, 'invalid_request_error', 'model', 'model_not_found');
}

function optionalNumber(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ApiError(400, `"${key}" must be a number.`, 'invalid_request_error', key);
  return v;
}

/** OpenAI's parameters (and the common extensions top_k, min_p, repetition_penalty, ignore_eos) → ours. */
function samplingOf(body: Record<string, unknown>, defaultMaxTokens: number): Partial<ChatSampling> {
  const n = optionalNumber(body, 'n');
  if (n !== undefined && n !== 1) throw new ApiError(400, 'Deepen writes one answer per request: "n" must be 1.', 'invalid_request_error', 'n');
  const stop = body.stop;
  if (stop !== undefined && stop !== null && typeof stop !== 'string' && !(Array.isArray(stop) && stop.every((s) => typeof s === 'string'))) {
    throw new ApiError(400, '"stop" must be a string or a list of strings.', 'invalid_request_error', 'stop');
  }
  const seed = optionalNumber(body, 'seed');
  return {
    preset: 'custom',
    temperature: optionalNumber(body, 'temperature') ?? 1,
    topP: optionalNumber(body, 'top_p') ?? 1,
    topK: optionalNumber(body, 'top_k') ?? 0,
    minP: optionalNumber(body, 'min_p') ?? 0,
    repetitionPenalty: optionalNumber(body, 'repetition_penalty') ?? 1,
    seed: seed === undefined ? null : seed,
    maxTokens: optionalNumber(body, 'max_completion_tokens') ?? optionalNumber(body, 'max_tokens') ?? defaultMaxTokens,
    stop: stop === undefined || stop === null ? [] : typeof stop === 'string' ? [stop] : (stop as string[]),
  };
}

function messagesOf(body: Record<string, unknown>): { role: string; content: string }[] {
  const raw = body.messages;
  if (!Array.isArray(raw) || raw.length === 0) throw new ApiError(400, '"messages" must be a non-empty list of {role, content}.', 'invalid_request_error', 'messages');
  return raw.map((m, i) => {
    if (!m || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') throw new ApiError(400, `messages[${i}] needs a "role".`, 'invalid_request_error', 'messages');
    const { role, content } = m as { role: string; content: unknown };
    // Content may be a list of parts; only text parts mean anything to a text model.
    const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => (p && typeof p === 'object' && (p as { type?: unknown }).type === 'text' ? String((p as { text?: unknown }).text ?? '') : '')).join('') : content == null ? '' : null;
    if (text === null) throw new ApiError(400, `messages[${i}].content must be text.`, 'invalid_request_error', 'messages');
    return { role: role === 'developer' ? 'system' : role, content: text };
  });
}

function promptOf(body: Record<string, unknown>): Pick<GenerateParams, 'prompt' | 'promptIds'> {
  let p = body.prompt;
  if (Array.isArray(p) && p.length === 1 && (typeof p[0] === 'string' || Array.isArray(p[0]))) p = p[0];
  if (typeof p === 'string') return { prompt: p };
  if (Array.isArray(p) && p.length > 0 && p.every((x) => Number.isInteger(x) && x >= 0)) return { promptIds: p as number[] };
  if (Array.isArray(p) && p.length > 1) throw new ApiError(400, 'Deepen takes one prompt per request; send the others separately.', 'invalid_request_error', 'prompt');
  throw new ApiError(400, '"prompt" must be a string or a list of token ids.', 'invalid_request_error', 'prompt');
}

const finishReason = (r: ChatStopReason): 'stop' | 'length' => (r === 'max_tokens' || r === 'context_full' ? 'length' : 'stop');

async function complete(host: EngineHost, req: http.IncomingMessage, res: http.ServerResponse, kind: 'chat' | 'text', body: Record<string, unknown>): Promise<void> {
  if (typeof body.model !== 'string' || !body.model) throw new ApiError(400, '"model" is required: the name of a model loaded in Deepen (see /v1/models).', 'invalid_request_error', 'model');
  for (const unsupported of ['echo', 'logprobs', 'suffix', 'tools', 'functions'] as const) {
    const v = body[unsupported];
    if (v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0)) throw new ApiError(400, `"${unsupported}" is not supported by Deepen.`, 'invalid_request_error', unsupported);
  }
  const models = await readyModels(host);
  const model = models.find((m) => m.modelId === body.model) ?? models.filter((m) => m.name === body.model).at(0);
  if (!model) throw modelNotFound(body.model, models);
  const stream = body.stream === true;
  const includeUsage = stream && (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const requestId = `openai-${id}`;
  const input = kind === 'chat' ? { messages: messagesOf(body) } : promptOf(body);
  const sampling = samplingOf(body, kind === 'chat' ? model.contextLength : 16);

  const base = { id, object: kind === 'chat' ? (stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion', created, model: model.name };
  const chunk = (choice: Record<string, unknown>) => `data: ${JSON.stringify({ ...base, choices: [{ index: 0, ...choice, ...(kind === 'text' ? { logprobs: null } : {}) }] })}\n\n`;
  // Text may come before the headers are out (if the model is quick); hold it until then.
  let held: string[] | null = [];
  const write = (text: string) => (held ? held.push(text) : res.write(text));

  let finished = false;
  let off: () => void = () => undefined;
  const ended = new Promise<GenerateOutcome>((resolve) => {
    off = host.onEvent((event, payload) => {
      const p = payload as { requestId?: string };
      if (p.requestId !== requestId) return;
      if (event === 'chat.token' && stream) {
        const delta = (payload as { delta: string }).delta;
        if (delta) write(chunk(kind === 'chat' ? { delta: { content: delta }, finish_reason: null } : { text: delta, finish_reason: null }));
      } else if (event === 'chat.done') {
        off();
        resolve((payload as { outcome: GenerateOutcome }).outcome);
      }
    });
  });
  // A client that hangs up stops the model instead of leaving it writing to nobody.
  res.on('close', () => {
    if (!finished) void host.call('chat.cancel', { requestId }).catch(() => undefined);
  });

  try {
    await host.call('chat.generate', { modelId: model.modelId, ...input, sampling, ignoreEos: body.ignore_eos === true, requestId });
  } catch (err) {
    finished = true;
    off();
    throw err;
  }
  if (stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    if (kind === 'chat') res.write(chunk({ delta: { role: 'assistant', content: '' }, finish_reason: null }));
    for (const text of held) res.write(text);
  }
  held = null;
  const outcome = await ended;
  finished = true;
  if (outcome.stopReason === 'error' && outcome.answer.error) {
    // Nothing useful came out: answer as an error (mid-stream, as an error event).
    throw DeepenError.fromInfo(outcome.answer.error);
  }
  const usage = { prompt_tokens: outcome.promptIds.length, completion_tokens: outcome.newIds.length, total_tokens: outcome.promptIds.length + outcome.newIds.length };
  const reason = finishReason(outcome.stopReason);
  if (stream) {
    res.write(chunk(kind === 'chat' ? { delta: {}, finish_reason: reason } : { text: '', finish_reason: reason }));
    if (includeUsage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  const choice = kind === 'chat' ? { index: 0, message: { role: 'assistant', content: outcome.text }, finish_reason: reason } : { index: 0, text: outcome.text, logprobs: null, finish_reason: reason };
  sendJson(res, 200, { ...base, choices: [choice], usage, deepen: { stats: outcome.answer.stats, stop_reason: outcome.stopReason, seed: outcome.answer.seed, new_ids: outcome.newIds } });
}

function statusOf(info: ErrorInfo): number {
  const table: Partial<Record<ErrorInfo['code'], number>> = { bad_request: 400, unsupported: 400, not_found: 404, conflict: 409, unauthorized: 401, out_of_memory: 507, engine_closed: 503, cancelled: 499, bad_file: 422 };
  return table[info.code] ?? 500;
}

function errorBody(err: unknown): { error: { message: string; type: string; param: string | null; code: string | null } } {
  if (err instanceof ApiError) return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
  const info = toErrorInfo(err);
  const status = statusOf(info);
  return { error: { message: info.message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: info.code } };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
