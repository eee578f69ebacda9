// Chat through the real engine host: a model loaded into its own worker as a
// job, a conversation whose answer streams as events and is stored with its
// stats, regenerate, edit-and-resend, stop mid-answer, compare mode (base vs
// its expanded copy, which must answer identically under greedy sampling),
// and the failures a user meets: no tokenizer, prompt longer than the
// context, a model too large for memory.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { presetSampling, type AnswerInfo, type ChatMessageInfo, type PoolModel } from '../../../src/shared/contract/chat';
import { llamaTiny, loadModel, nextEvent, openHost, qwenNoTokenizer } from './helpers';
import { rejectionOf } from '../../expect-error';

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
  delete process.env.DEEPEN_MEMORY_LIMIT;
});


const greedy = { ...presetSampling('precise'), repetitionPenalty: 1, maxTokens: 16 };

describe('chat through the host', () => {
  it('loads a model as a job with progress, answers a message as a stream, stores it with stats; regenerate and edit answer again', async () => {
    const { host } = openHost(cleanups);
    const record = await host.call('models.add', { path: llamaTiny });
    const changes: PoolModel[] = [];
    host.onEvent((e, p) => e === 'chat.model' && (p as { model: PoolModel | null }).model && changes.push((p as { model: PoolModel }).model));
    const estimate = await host.call('chat.estimate', { modelId: record.id });
    expect(estimate).toMatchObject({ precision: 'fp32', contextLength: 256, fits: true });
    expect(estimate.totalBytes).toBe(estimate.weightsBytes + estimate.kvCacheBytes + estimate.workingBytes);

    const { jobId, model } = await host.call('chat.load', { modelId: record.id });
    expect(model.state).toBe('loading');
    const job = await host.jobs.wait(jobId);
    expect(job).toMatchObject({ kind: 'model-load', state: 'succeeded', progress: 1 });
    const [loaded] = await host.call('chat.models', {});
    expect(loaded).toMatchObject({ modelId: record.id, state: 'ready', provider: 'cpu', precision: 'fp32', mode: 'completion', tokenizerError: null, busy: 0 });
    expect(loaded.note).toMatch(/no chat template/);
    expect(loaded.weightsBytes).toBeGreaterThan(4_000_000 * 4);
    expect(changes.some((m) => m.state === 'loading' && m.progress > 0 && m.progress < 1)).toBe(true);
    const logs = (await host.call('jobs.get', { id: jobId })).logs.map((l) => l.text).join('\n');
    expect(logs).toMatch(/needs about .* free/);
    expect(logs).toMatch(/Loaded on cpu/);

    const conv = await host.call('chat.create', { modelIds: [record.id], systemPrompt: 'You are terse.', sampling: greedy });
    const tokens: string[] = [];
    host.onEvent((e, p) => e === 'chat.token' && tokens.push((p as { delta: string }).delta));
    const done = nextEvent(host, 'chat.done', (p) => p.conversationId === conv.id);
    const sent = await host.call('chat.send', { conversationId: conv.id, content: 'Tell me about llamas' });
    expect(sent.userMessage).toMatchObject({ role: 'user', content: 'Tell me about llamas', seq: 1 });
    expect(sent.replies).toHaveLength(1);
    const first = await done;
    expect(first.message).toMatchObject({ role: 'assistant', modelId: record.id, seq: 2 });
    expect(first.message!.content).toBe(tokens.join(''));
    expect(first.message!.content.length).toBeGreaterThan(0);
    const answer = first.message!.answer!;
    expect(answer).toMatchObject({ state: 'done', stopReason: 'max_tokens', modelName: 'llama-tiny', provider: 'cpu', mode: 'completion' });
    expect(answer.stats!.generatedTokens).toBe(16);
    expect(answer.stats!.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(answer.stats!.prefillTokensPerSecond).toBeGreaterThan(0);
    expect(answer.stats!.decodeTokensPerSecond).toBeGreaterThan(0);

    const detail = await host.call('chat.get', { id: conv.id });
    expect(detail.conversation.title).toBe('Tell me about llamas');
    expect(detail.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(detail.streaming).toEqual([]);
    expect((await host.call('chat.search', { query: 'llamas' }))[0]).toMatchObject({ conversationId: conv.id, role: 'user' });

    // Greedy: the same prompt gives the same answer, written into the same message.
    const again = nextEvent(host, 'chat.done', (p) => p.conversationId === conv.id);
    const regen = await host.call('chat.regenerate', { conversationId: conv.id });
    expect(regen.replies[0].messageId).toBe(first.messageId);
    expect((await again).message!.content).toBe(first.message!.content);

    // Edit: the user turn changes, the old answer goes, a new one comes.
    const edited = nextEvent(host, 'chat.done', (p) => p.conversationId === conv.id);
    const edit = await host.call('chat.edit', { conversationId: conv.id, messageId: sent.userMessage!.id, content: 'Tell me about alpacas' });
    expect(edit.userMessage).toMatchObject({ id: sent.userMessage!.id, content: 'Tell me about alpacas' });
    const editedAnswer = await edited;
    const after = await host.call('chat.get', { id: conv.id });
    expect(after.messages.map((m: ChatMessageInfo) => [m.role, m.content])).toEqual([
      ['user', 'Tell me about alpacas'],
      ['assistant', editedAnswer.message!.content],
    ]);
    expect(editedAnswer.message!.content).not.toBe(first.message!.content);

    const unloaded = await host.call('chat.unload', { modelId: record.id });
    expect(unloaded.unloaded).toBe(true);
    expect(await host.call('chat.models', {})).toEqual([]);
    const notLoaded = await rejectionOf(host.call('chat.send', { conversationId: conv.id, content: 'hello?' }));
    expect(notLoaded.code).toBe('bad_request');
    expect(notLoaded.message).toMatch(/llama-tiny is not loaded\. Load it in the model picker/);
  });

  it('stops an answer mid-stream: it ends as cancelled, keeps the text so far, and the model answers again afterwards', async () => {
    const { host } = openHost(cleanups);
    const modelId = await loadModel(host, llamaTiny);
    const requestId = 'stop-me';
    let streamedTokens = 0;
    const stopped = nextEvent(host, 'chat.done', (p) => p.requestId === requestId);
    host.onEvent((e, p) => {
      if (e !== 'chat.token' || (p as { requestId: string }).requestId !== requestId) return;
      streamedTokens += (p as { tokens: number }).tokens;
      if (streamedTokens >= 3) void host.call('chat.cancel', { requestId });
    });
    await host.call('chat.generate', { modelId, promptIds: [1, 450, 4996], sampling: { ...greedy, maxTokens: 250 }, ignoreEos: true, requestId });
    const { outcome } = await stopped;
    expect(outcome.stopReason).toBe('cancelled');
    expect(outcome.answer.state).toBe('cancelled');
    expect(outcome.newIds.length).toBeGreaterThanOrEqual(3);
    expect(outcome.newIds.length).toBeLessThan(250);

    const next = nextEvent(host, 'chat.done', (p) => p.requestId === 'after');
    await host.call('chat.generate', { modelId, promptIds: [1, 450], sampling: { ...greedy, maxTokens: 4 }, ignoreEos: true, requestId: 'after' });
    expect((await next).outcome).toMatchObject({ stopReason: 'max_tokens', newIds: expect.any(Array) });
  });

  it('compare mode: one prompt to the base model and its expanded copy, each streaming its own answer with its own speed; greedy answers are equal', async () => {
    const { host, dir } = openHost(cleanups);
    const base = await host.call('models.add', { path: llamaTiny });
    const { plan } = await host.call('models.plan', { modelId: base.id, strategy: 'interleaved', add: 2 });
    const { jobId } = await host.call('models.expand', { modelId: base.id, plan, outDir: `${dir}/llama-tiny-pro` });
    const expandJob = await host.jobs.wait(jobId);
    expect(expandJob.state).toBe('succeeded');
    const expandedId = ((await host.call('jobs.get', { id: jobId })).result as { modelId: string }).modelId;
    for (const id of [base.id, expandedId]) expect((await host.jobs.wait((await host.call('chat.load', { modelId: id })).jobId)).state).toBe('succeeded');

    const conv = await host.call('chat.create', { modelIds: [base.id, expandedId], sampling: { ...greedy, maxTokens: 24 } });
    const byModel = new Map<string, string>();
    host.onEvent((e, p) => {
      if (e !== 'chat.token') return;
      const t = p as { modelId: string; delta: string };
      byModel.set(t.modelId, (byModel.get(t.modelId) ?? '') + t.delta);
    });
    const doneEvents: { modelId: string; message: ChatMessageInfo | null }[] = [];
    const bothDone = new Promise<void>((resolve) =>
      host.onEvent((e, p) => {
        if (e === 'chat.done' && (p as { conversationId: string }).conversationId === conv.id) doneEvents.push(p as (typeof doneEvents)[number]);
        if (doneEvents.length === 2) resolve();
      }),
    );
    const sent = await host.call('chat.send', { conversationId: conv.id, content: 'Once upon a time' });
    expect(sent.replies.map((r) => r.modelId)).toEqual([base.id, expandedId]);
    await bothDone;
    const answers = Object.fromEntries(doneEvents.map((d) => [d.modelId, d.message!]));
    expect(answers[base.id].content).toBe(byModel.get(base.id));
    expect(answers[expandedId].content).toBe(byModel.get(expandedId));
    expect(answers[expandedId].content).toBe(answers[base.id].content); // function preservation, seen in chat
    for (const a of Object.values(answers)) expect(a.answer!.stats!.decodeTokensPerSecond).toBeGreaterThan(0);
    const stored = await host.call('chat.get', { id: conv.id });
    expect(stored.messages.filter((m) => m.role === 'assistant').map((m) => m.modelId)).toEqual([base.id, expandedId]);
  });

  it('shows a missing tokenizer and a prompt longer than the context as the answer\'s error, and the engine keeps answering', async () => {
    const { host } = openHost(cleanups);
    const qwen = await loadModel(host, qwenNoTokenizer);
    const [model] = await host.call('chat.models', {});
    expect(model.tokenizerError?.message).toMatch(/tokenizer\.json does not exist/);
    const conv = await host.call('chat.create', { modelIds: [qwen] });
    const failed = nextEvent(host, 'chat.done', (p) => p.conversationId === conv.id);
    await host.call('chat.send', { conversationId: conv.id, content: 'hello' });
    const { message, outcome } = await failed;
    expect(outcome.stopReason).toBe('error');
    expect(message!.answer).toMatchObject({ state: 'failed', error: { message: expect.stringMatching(/tokenizer\.json does not exist.*copy it from the model's Hugging Face repository/) } });
    // Token ids need no tokenizer.
    const ids = nextEvent(host, 'chat.done', (p) => p.requestId === 'ids');
    await host.call('chat.generate', { modelId: qwen, promptIds: [1, 2, 3], sampling: { ...greedy, maxTokens: 3 }, ignoreEos: true, requestId: 'ids' });
    expect((await ids).outcome.newIds).toHaveLength(3);

    const llama = await loadModel(host, llamaTiny);
    const tooLong = nextEvent(host, 'chat.done', (p) => p.requestId === 'long');
    await host.call('chat.generate', { modelId: llama, prompt: 'word '.repeat(400), requestId: 'long' });
    const long = (await tooLong).outcome;
    expect(long.answer.error?.message).toMatch(/The prompt is \d+ tokens long, but this model's context holds 256 tokens/);
  });

  it('leaves out the oldest turns when a conversation outgrows the context, and says so', async () => {
    const { host } = openHost(cleanups);
    const modelId = await loadModel(host, llamaTiny);
    const conv = await host.call('chat.create', { modelIds: [modelId], sampling: greedy });
    const answers: AnswerInfo[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const done = nextEvent(host, 'chat.done', (p) => p.conversationId === conv.id);
      await host.call('chat.send', { conversationId: conv.id, content: `turn ${turn}: ${'llama '.repeat(80)}` });
      answers.push((await done).message!.answer!);
    }
    expect(answers.map((a) => a.state)).toEqual(['done', 'done', 'done']);
    expect(answers[0].droppedMessages).toBe(0);
    expect(answers[2].droppedMessages).toBeGreaterThanOrEqual(2);
    expect(answers[2].stats!.promptTokens).toBeLessThanOrEqual(256 - 16);
  });

  it('shows a chat template that does not parse, or that refuses the conversation, as the answer\'s error', async () => {
    const { host, dir } = openHost(cleanups);
    const withTemplate = (name: string, template: string) => {
      const out = path.join(dir, name);
      fs.cpSync(llamaTiny, out, { recursive: true });
      const config = JSON.parse(fs.readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8'));
      fs.writeFileSync(path.join(out, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: template }));
      return out;
    };
    const broken = await loadModel(host, withTemplate('broken-template', '{% for m in messages %}{{ m.content }'));
    const [b] = await host.call('chat.models', {});
    expect(b.templateError?.message).toMatch(/chat template in .*tokenizer_config\.json could not be parsed/);
    const strict = await loadModel(host, withTemplate('strict-template', "{% if messages[0].role != 'system' %}{{ raise_exception('A system message must come first.') }}{% endif %}{% for m in messages %}{{ m.content }}{% endfor %}"));
    for (const [modelId, pattern] of [
      [broken, /could not be parsed/],
      [strict, /refused this conversation: "A system message must come first\."/],
    ] as const) {
      const conv = await host.call('chat.create', { modelIds: [modelId], sampling: greedy });
      const failed = nextEvent(host, 'chat.done', (p) => p.conversationId === conv.id);
      await host.call('chat.send', { conversationId: conv.id, content: 'hello' });
      expect((await failed).message!.answer).toMatchObject({ state: 'failed', error: { message: expect.stringMatching(pattern) } });
    }
    // With a system prompt the strict template renders, and the model answers in chat mode.
    const conv = await host.call('chat.create', { modelIds: [strict], systemPrompt: 'Be brief.', sampling: greedy });
    const ok = nextEvent(host, 'chat.done', (p) => p.conversationId === conv.id);
    await host.call('chat.send', { conversationId: conv.id, content: 'hello' });
    expect((await ok).message!.answer).toMatchObject({ state: 'done', mode: 'chat' });
  });

  it('cancels a load from the Jobs page or by unloading; a failed load can be dismissed and loaded again', async () => {
    const { host } = openHost(cleanups);
    const record = await host.call('models.add', { path: llamaTiny });
    const first = await host.call('chat.load', { modelId: record.id });
    await host.call('jobs.cancel', { id: first.jobId });
    expect((await host.jobs.wait(first.jobId)).state).toBe('cancelled');
    const [failed] = await host.call('chat.models', {});
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'cancelled' } });
    expect(await host.call('chat.unload', { modelId: record.id })).toEqual({ modelId: record.id, unloaded: true });

    const second = await host.call('chat.load', { modelId: record.id });
    expect(await host.call('chat.unload', { modelId: record.id })).toEqual({ modelId: record.id, unloaded: true });
    expect((await host.jobs.wait(second.jobId)).state).toBe('cancelled');
    expect(await host.call('chat.models', {})).toEqual([]);

    const third = await host.call('chat.load', { modelId: record.id });
    expect((await host.jobs.wait(third.jobId)).state).toBe('succeeded');
    expect((await host.call('chat.models', {}))[0].state).toBe('ready');
  });

  it('loads on the provider Settings asks for, or on the CPU with the reason when it cannot start', async () => {
    const { host } = openHost(cleanups);
    await host.call('settings.set', { provider: 'cuda' });
    const modelId = await loadModel(host, llamaTiny);
    const [m] = await host.call('chat.models', {});
    expect(m.requestedProvider).toBe('cuda');
    // No CUDA libraries are installed by npm here; on a machine that has them the model runs on CUDA.
    if (m.provider === 'cpu') expect(m.fallbackReason).toMatch(/^cuda failed to start/);
    else expect(m).toMatchObject({ provider: 'cuda', fallbackReason: null });
    const done = nextEvent(host, 'chat.done', (p) => p.requestId === 'fb');
    await host.call('chat.generate', { modelId, promptIds: [1, 2, 3], sampling: { ...greedy, maxTokens: 4 }, ignoreEos: true, requestId: 'fb' });
    expect((await done).outcome.newIds).toHaveLength(4);
  });

  it('refuses a model too large for free memory before loading, with the numbers', async () => {
    const { host } = openHost(cleanups);
    const record = await host.call('models.add', { path: llamaTiny });
    process.env.DEEPEN_MEMORY_LIMIT = '64MB';
    const estimate = await host.call('chat.estimate', { modelId: record.id });
    expect(estimate.fits).toBe(false);
    expect(estimate.freeBytes).toBeLessThanOrEqual(64e6);
    const err = await rejectionOf(host.call('chat.load', { modelId: record.id }));
    expect(err.code).toBe('out_of_memory');
    expect(err.message).toMatch(/llama-tiny needs about [\d.]+ MiB \(weights [\d.]+ MiB in fp32 \+ KV cache [\d.]+ MiB for 256 tokens \+ working memory [\d.]+ MiB\), but only 6\d MiB is free/);
    expect(err.message).toMatch(/Load it in fp16/);
    expect(await host.call('chat.models', {})).toEqual([]);
    expect((await host.call('jobs.list', {})).filter((j) => j.kind === 'model-load')).toEqual([]);
  });
});
