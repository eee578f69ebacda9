// The chat stores against an in-memory engine: turns grouped for compare
// mode, a draft that becomes a conversation on the first send, answers
// growing from token events and replaced by the stored message when done (a
// late chat.get must not bring back the "streaming" copy), refusals shown in
// the chat, and the model pool kept live by events.
import { describe, expect, it } from 'vitest';
import { defaultChatSampling, type AnswerInfo, type ChatMessageInfo, type ConversationInfo, type PoolModel } from '../../../src/shared/contract';
import { DeepenError } from '../../../src/shared/errors';
import { groupTurns, useChatStore } from '../../../src/renderer/src/stores/useChatStore';
import { useChatModelsStore } from '../../../src/renderer/src/stores/useChatModelsStore';
import { fakeEngine } from './fake-engine';

const conv = (over: Partial<ConversationInfo> = {}): ConversationInfo => ({ id: 'c1', title: '', systemPrompt: '', modelIds: ['a'], sampling: { ...defaultChatSampling }, createdAt: 1, updatedAt: 1, ...over });
const answer = (state: AnswerInfo['state']): AnswerInfo => ({ state, modelId: 'a', modelName: 'A', provider: 'cpu', precision: 'fp32', mode: 'chat', note: null, stopReason: state === 'done' ? 'eos' : null, seed: null, stats: null, error: null, sampling: null });
const msg = (id: string, role: ChatMessageInfo['role'], content: string, over: Partial<ChatMessageInfo> = {}): ChatMessageInfo => ({
  id,
  conversationId: 'c1',
  seq: Number(id.replace(/\D/g, '')) || 0,
  role,
  content,
  modelId: role === 'assistant' ? 'a' : null,
  answer: role === 'assistant' ? answer('done') : null,
  createdAt: 1,
  ...over,
});

describe('groupTurns', () => {
  it('puts every answer under the user message it answers', () => {
    const turns = groupTurns([msg('m1', 'user', 'q1'), msg('m2', 'assistant', 'a1'), msg('m3', 'assistant', 'b1', { modelId: 'b' }), msg('m4', 'user', 'q2')]);
    expect(turns.map((t) => [t.user?.content, t.answers.map((a) => a.content)])).toEqual([
      ['q1', ['a1', 'b1']],
      ['q2', []],
    ]);
  });
});

describe('useChatStore', () => {
  it('creates the conversation from the draft on the first send, streams tokens into the answer and keeps the stored one', async () => {
    const engine = fakeEngine();
    const created = conv({ modelIds: ['a', 'b'], systemPrompt: 'Be brief.' });
    const streamingDetail = { conversation: { ...created, title: 'hi' }, messages: [msg('m1', 'user', 'hi'), msg('m2', 'assistant', '', { answer: answer('streaming') })], streaming: [] };
    let getCalls = 0;
    engine.handle('chat.create', (p) => ({ ...created, ...p }));
    engine.handle('chat.send', () => ({ userMessage: streamingDetail.messages[0], replies: [{ requestId: 'r1', messageId: 'm2', modelId: 'a' }] }));
    engine.handle('chat.get', () => {
      getCalls++;
      return streamingDetail;
    });
    const chat = useChatStore();
    chat.updateSettings({ modelIds: ['a', 'b'], systemPrompt: 'Be brief.' });
    expect(chat.compare).toBe(true);
    expect(await chat.send('hi')).toBe(true);
    expect(engine.calls.find((c) => c.method === 'chat.create')!.params).toMatchObject({ modelIds: ['a', 'b'], systemPrompt: 'Be brief.' });
    expect(chat.activeId).toBe('c1');
    expect(chat.streaming).toBe(true); // before the first token, from the stored message

    engine.emit('chat.token', { requestId: 'r1', conversationId: 'c1', messageId: 'm2', modelId: 'a', delta: 'Hel', tokens: 2 });
    engine.emit('chat.token', { requestId: 'r1', conversationId: 'c1', messageId: 'm2', modelId: 'a', delta: 'lo', tokens: 1 });
    engine.emit('chat.token', { requestId: 'x', conversationId: 'other', messageId: 'z', modelId: 'a', delta: 'not ours', tokens: 1 });
    await engine.flush();
    expect(chat.live.m2).toMatchObject({ text: 'Hello', tokens: 3 });

    const stored = msg('m2', 'assistant', 'Hello', { answer: answer('done') });
    engine.emit('chat.done', { requestId: 'r1', conversationId: 'c1', messageId: 'm2', modelId: 'a', outcome: {} as never, message: stored });
    await engine.flush();
    expect(chat.live).toEqual({});
    expect(chat.messages[1]).toEqual(stored);
    expect(chat.streaming).toBe(false);

    // A chat.get answered before the answer was stored must not undo it.
    const before = getCalls;
    engine.emit('chat.conversation', { id: 'c1' });
    await chat.open('c1');
    expect(getCalls).toBe(before + 1);
    expect(chat.messages[1].content).toBe('Hello');
  });

  it('shows why a message was not sent, and keeps the draft', async () => {
    const engine = fakeEngine({
      'chat.list': () => [conv({ id: 'old', modelIds: ['m'], sampling: { ...defaultChatSampling, temperature: 0 } })],
      'chat.create': (p) => conv(p),
      'chat.send': () => {
        throw new DeepenError('bad_request', 'llama-tiny is not loaded. Load it in the model picker, then send again.');
      },
      'chat.get': () => ({ conversation: conv(), messages: [], streaming: [] }),
    });
    const chat = useChatStore();
    await chat.loadList();
    // A new chat starts with the latest conversation's models and sampling.
    expect(chat.settings.modelIds).toEqual(['m']);
    expect(chat.settings.sampling.temperature).toBe(0);
    expect(await chat.send('hello')).toBe(false);
    expect(chat.error).toMatch(/not loaded/);
    expect(engine.calls.map((c) => c.method)).toContain('chat.send');
  });
});

describe('useChatModelsStore', () => {
  it('follows load progress from events and keeps a refused load per model', async () => {
    const loading: PoolModel = { modelId: 'a', name: 'A', state: 'loading', progress: 0.4 } as PoolModel;
    const engine = fakeEngine({
      'chat.models': () => [],
      'chat.load': ({ modelId }) => {
        if (modelId === 'big') throw new DeepenError('out_of_memory', 'big needs about 30.0 GiB (…), but only 8.0 GiB is free.');
        return { jobId: 'j', model: loading };
      },
      'chat.unload': ({ modelId }) => ({ modelId, unloaded: true }),
      'chat.estimate': ({ modelId }) => ({ modelId, fits: true, totalBytes: 1 }),
    });
    const pool = useChatModelsStore();
    await pool.refresh();
    expect(await pool.load('a')).toBe(true);
    expect(pool.stateOf('a')?.state).toBe('loading');
    engine.emit('chat.model', { modelId: 'a', model: { ...loading, state: 'ready', progress: 1, memoryBytes: 100 } });
    await engine.flush();
    expect(pool.ready.map((m) => m.modelId)).toEqual(['a']);
    expect(pool.usedBytes).toBe(100);
    expect(await pool.load('big')).toBe(false);
    expect(pool.loadErrors.big).toMatch(/only 8\.0 GiB is free/);
    await pool.unload('a');
    expect(pool.stateOf('a')).toBeNull();
  });
});
