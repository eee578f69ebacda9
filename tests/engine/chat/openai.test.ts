// The OpenAI-compatible endpoints over real HTTP: the token (401 in OpenAI's
// error shape without it), /v1/models, chat and text completions with and
// without streaming (SSE framing: `data: {json}` events, a finish_reason, then
// `data: [DONE]`), token-id prompts that reproduce transformers' greedy ids,
// and errors a client can read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineHost } from '../../../src/native/host/host';
import { serve, type RunningServer } from '../../../src/native/host/server';
import { readReference } from '../model/reference';
import { llamaTiny, loadModel, openHost } from './helpers';

const cleanups: (() => unknown)[] = [];
let host: EngineHost;
let server: RunningServer;
let base: string;

beforeAll(async () => {
  const opened = openHost(cleanups);
  host = opened.host;
  await loadModel(host, llamaTiny);
  server = await serve(host, { rendererDir: opened.dir, port: 0 });
  cleanups.push(() => server.close());
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const auth = () => ({ authorization: `Bearer ${server.token}`, 'content-type': 'application/json' });
/** Response bodies are read loosely: the assertions say what shape they must have. */
const json = async (res: Response): Promise<any> => res.json();
const post = (path: string, body: unknown, headers: Record<string, string> = auth()) => fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

/** Splits an SSE body into its events' data fields, checking the framing on the way. */
function sseData(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      expect(event.includes('\n')).toBe(false);
      return event.slice('data: '.length);
    });
}

describe('OpenAI-compatible endpoints', () => {
  it('needs the token: 401 with an OpenAI error object, for every /v1 path', async () => {
    for (const [method, path] of [
      ['GET', '/v1/models'],
      ['POST', '/v1/chat/completions'],
      ['POST', '/v1/completions'],
    ]) {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: 'Bearer wrong' }, body: method === 'POST' ? '{}' : undefined });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await json(res)).toEqual({ error: { message: expect.stringMatching(/access token/), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
  });

  it('lists the loaded models', async () => {
    const res = await fetch(`${base}/v1/models`, { headers: auth() });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ object: 'list', data: [{ id: 'llama-tiny', object: 'model', owned_by: 'deepen', deepen: { provider: 'cpu', context_length: 256 } }] });
    const one = await fetch(`${base}/v1/models/llama-tiny`, { headers: auth() });
    expect((await json(one)).id).toBe('llama-tiny');
  });

  it('completes token ids exactly as transformers does greedily (non-streaming)', async () => {
    const ref = await readReference('llama-tiny');
    const prompt = ref.inputIds[0].slice(0, 6);
    const res = await post('/v1/completions', { model: 'llama-tiny', prompt, max_tokens: 12, temperature: 0, ignore_eos: true });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ object: 'text_completion', model: 'llama-tiny', choices: [{ index: 0, finish_reason: 'length', logprobs: null }], usage: { prompt_tokens: 6, completion_tokens: 12, total_tokens: 18 } });
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.deepen.new_ids).toEqual(ref.greedyIds.slice(-12));
    expect(typeof body.choices[0].text).toBe('string');
  });

  it('answers chat completions, and streams them as SSE chunks ending in [DONE]', async () => {
    const messages = [{ role: 'user', content: 'Hello!' }];
    const plain = await post('/v1/chat/completions', { model: 'llama-tiny', messages, max_tokens: 10, temperature: 0 });
    expect(plain.status).toBe(200);
    const whole = await json(plain);
    expect(whole).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: expect.stringMatching(/^(stop|length)$/) }] });

    const streamed = await post('/v1/chat/completions', { model: 'llama-tiny', messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = sseData(await streamed.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    for (const c of chunks) expect(c).toMatchObject({ id: chunks[0].id, object: 'chat.completion.chunk', model: 'llama-tiny' });
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(whole.usage.completion_tokens);
    const finish = chunks.at(-2);
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: whole.choices[0].finish_reason });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(whole.choices[0].message.content);
  });

  it('streams text completions', async () => {
    const res = await post('/v1/completions', { model: 'llama-tiny', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, stream: true });
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('length');
  });

  it('answers mistakes with OpenAI error objects', async () => {
    const unknown = await post('/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found', message: expect.stringMatching(/"gpt-4" is not loaded.*Loaded: llama-tiny/) });

    const badJson = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: auth(), body: '{nope' });
    expect(badJson.status).toBe(400);
    expect((await json(badJson)).error.message).toMatch(/not valid JSON/);

    const noMessages = await post('/v1/chat/completions', { model: 'llama-tiny' });
    expect((await json(noMessages)).error).toMatchObject({ param: 'messages' });

    const badTemp = await post('/v1/completions', { model: 'llama-tiny', prompt: 'x', temperature: -1 });
    expect(badTemp.status).toBe(400);
    expect((await json(badTemp)).error.message).toMatch(/temperature/);

    const tooLong = await post('/v1/completions', { model: 'llama-tiny', prompt: 'word '.repeat(400) });
    expect(tooLong.status).toBe(400);
    expect((await json(tooLong)).error.message).toMatch(/context holds 256 tokens/);

    const wrongMethod = await fetch(`${base}/v1/chat/completions`, { headers: auth() });
    expect(wrongMethod.status).toBe(405);
  });
});
