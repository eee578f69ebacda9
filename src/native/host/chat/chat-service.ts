// Conversations on top of the model pool: a user turn is stored, then every
// model of the conversation answers it (one assistant message each: compare
// mode is just a conversation with several models). An answer is stored as
// an empty "streaming" message when it starts, so a reload mid-answer shows
// it, and filled in with its text and stats when it ends — done, stopped or
// failed, the failure's message kept with it for the chat to show.
import { randomUUID } from 'node:crypto';
import { DeepenError, type ErrorInfo } from '../../../shared/errors';
import type { AnswerInfo, ChatMessageInfo, ChatSampling, ConversationDetail, ConversationInfo, GenerateOutcome, GenerateParams, SendResult } from '../../../shared/contract/chat';
import * as sql from '../../data/conversations';
import { getModel } from '../../data/models';
import type { ModelPool, PoolRequest } from '../model-pool';
import type { HostServices } from '../services';
import { buildHistory } from './history';
import { normalizeSampling, storedSampling } from './sampling-params';
import type { WorkerAnswer } from './worker-protocol';

interface ActiveAnswer {
  conversationId: string | null;
  messageId: string | null;
  modelId: string;
  /** streamed so far, for a window that opens the conversation mid-answer */
  text: string;
}

export class ChatService {
  private readonly active = new Map<string, ActiveAnswer>();

  constructor(
    private readonly s: HostServices,
    readonly pool: ModelPool,
  ) {}

  // ------------------------------------------------------------ conversations

  conversation(id: string): ConversationInfo {
    const c = sql.getConversation(this.s.db, id);
    if (!c) throw new DeepenError('not_found', `There is no conversation ${id}. It may have been deleted; pick another from the list.`, { conversationId: id });
    return toInfo(c);
  }

  detail(id: string): ConversationDetail {
    const conversation = this.conversation(id);
    const streaming = [...this.active.entries()].filter(([, a]) => a.conversationId === id).map(([requestId, a]) => ({ requestId, messageId: a.messageId!, modelId: a.modelId, text: a.text }));
    const live = new Set(streaming.map((x) => x.messageId));
    const messages = sql.listMessages(this.s.db, id).map((m) => {
      const info = toMessageInfo(m);
      // Streaming when the engine stopped: it will never finish; say so.
      if (info.answer?.state === 'streaming' && !live.has(info.id)) {
        const answer: AnswerInfo = { ...info.answer, state: 'interrupted', stopReason: 'error', error: { code: 'engine_closed', message: 'The engine stopped while this answer was being written. Regenerate it.' } };
        return toMessageInfo(sql.updateMessage(this.s.db, info.id, { stats: { ...answer } }, m.createdAt));
      }
      return info;
    });
    return { conversation, messages, streaming };
  }

  create(p: { title?: string; systemPrompt?: string; modelIds?: string[]; sampling?: Partial<ChatSampling> }): ConversationInfo {
    const c = sql.createConversation(this.s.db, { title: p.title, systemPrompt: p.systemPrompt, modelIds: p.modelIds, sampling: { ...normalizeSampling(p.sampling ?? {}) } });
    this.s.emit('chat.conversation', { id: c.id });
    return toInfo(c);
  }

  update(p: { id: string; title?: string; systemPrompt?: string; modelIds?: string[]; sampling?: Partial<ChatSampling> }): ConversationInfo {
    const current = this.conversation(p.id);
    if (p.title !== undefined && !p.title.trim()) throw new DeepenError('bad_request', 'A conversation title cannot be empty. Type a name.');
    const sampling = p.sampling === undefined ? undefined : { ...normalizeSampling(p.sampling, current.sampling) };
    const c = sql.updateConversation(this.s.db, p.id, { title: p.title?.trim(), systemPrompt: p.systemPrompt, modelIds: p.modelIds ? uniqueIds(p.modelIds) : undefined, sampling });
    this.s.emit('chat.conversation', { id: c.id });
    return toInfo(c);
  }

  delete(id: string): void {
    this.cancel({ conversationId: id });
    if (!sql.deleteConversation(this.s.db, id)) throw new DeepenError('not_found', `There is no conversation ${id}.`, { conversationId: id });
    this.s.emit('chat.conversation', { id, removed: true });
  }

  // ------------------------------------------------------------ turns

  send(p: { conversationId: string; content: string; modelIds?: string[] }): SendResult {
    if (!p.content?.trim()) throw new DeepenError('bad_request', 'The message is empty. Type something to send.');
    let conv = this.conversation(p.conversationId);
    if (p.modelIds) conv = this.update({ id: conv.id, modelIds: p.modelIds });
    this.checkReady(conv);
    const user = toMessageInfo(sql.addMessage(this.s.db, conv.id, { role: 'user', content: p.content }));
    const result = { userMessage: user, replies: this.answer(conv, conv.modelIds) };
    this.s.emit('chat.conversation', { id: conv.id });
    return result;
  }

  regenerate(p: { conversationId: string; modelIds?: string[] }): SendResult {
    const conv = this.conversation(p.conversationId);
    const models = p.modelIds ? uniqueIds(p.modelIds) : conv.modelIds;
    this.checkReady({ ...conv, modelIds: models });
    const messages = sql.listMessages(this.s.db, conv.id);
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    if (!lastUser) throw new DeepenError('bad_request', 'There is no message to answer again yet. Send one first.');
    // A model answers again in its old message's place; other models' answers stay as they were.
    const reuse = new Map<string, string>();
    for (const m of messages) if (m.seq > lastUser.seq && m.role === 'assistant' && m.modelId && models.includes(m.modelId)) reuse.set(m.modelId, m.id);
    return { userMessage: null, replies: this.answer(conv, models, reuse) };
  }

  edit(p: { conversationId: string; messageId: string; content: string }): SendResult {
    if (!p.content?.trim()) throw new DeepenError('bad_request', 'The edited message is empty. Type something, or delete the conversation instead.');
    const conv = this.conversation(p.conversationId);
    const m = sql.getMessage(this.s.db, p.messageId);
    if (!m || m.conversationId !== conv.id) throw new DeepenError('not_found', `Message ${p.messageId} is not part of this conversation. Reload it and try again.`);
    if (m.role !== 'user') throw new DeepenError('bad_request', 'Only your own messages can be edited and sent again.');
    this.checkReady(conv);
    sql.truncateConversation(this.s.db, conv.id, m.id);
    const user = toMessageInfo(sql.updateMessage(this.s.db, m.id, { content: p.content }));
    const result = { userMessage: user, replies: this.answer(conv, conv.modelIds) };
    this.s.emit('chat.conversation', { id: conv.id });
    return result;
  }

  /** Raw generation: streamed as events like a chat answer, stored nowhere. */
  generate(p: GenerateParams): string {
    const given = [p.messages, p.prompt, p.promptIds].filter((x) => x !== undefined).length;
    if (given !== 1) throw new DeepenError('bad_request', 'Give exactly one of messages, prompt or promptIds.');
    if (p.promptIds && !p.promptIds.every((x) => Number.isInteger(x) && x >= 0)) throw new DeepenError('bad_request', 'promptIds must be whole numbers ≥ 0.');
    const input: PoolRequest['input'] = p.messages ? { kind: 'messages', messages: p.messages } : p.prompt !== undefined ? { kind: 'prompt', text: p.prompt } : { kind: 'ids', ids: p.promptIds! };
    return this.start({ conversationId: null, messageId: null, modelId: p.modelId, text: '' }, { input, sampling: normalizeSampling(p.sampling), ignoreEos: p.ignoreEos, requestId: p.requestId });
  }

  cancel(p: { requestId?: string; conversationId?: string }): number {
    let n = 0;
    for (const [requestId, a] of this.active) {
      if (requestId === p.requestId || (p.conversationId !== undefined && a.conversationId === p.conversationId)) n += this.pool.cancel(requestId) ? 1 : 0;
    }
    return n;
  }

  // ------------------------------------------------------------ internals

  private checkReady(conv: ConversationInfo): void {
    if (this.isBusy(conv.id)) throw new DeepenError('conflict', 'An answer is still being written in this conversation. Wait for it, or press Stop.');
    if (!conv.modelIds.length) throw new DeepenError('bad_request', 'Pick a model to chat with first (the model picker above the messages).');
    const ready = conv.modelIds.filter((id) => this.pool.get(id)?.state === 'ready');
    if (!ready.length) {
      const names = conv.modelIds.map((id) => this.pool.get(id)?.name ?? getModel(this.s.db, id)?.name ?? id);
      throw new DeepenError('bad_request', `${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'} not loaded. Load ${names.length > 1 ? 'them' : 'it'} in the model picker, then send again.`);
    }
  }

  private isBusy(conversationId: string): boolean {
    for (const a of this.active.values()) if (a.conversationId === conversationId) return true;
    return false;
  }

  /** One streaming answer per model, each an assistant message of its own. */
  private answer(conv: ConversationInfo, modelIds: string[], reuse = new Map<string, string>()): SendResult['replies'] {
    const history = sql.listMessages(this.s.db, conv.id);
    const replies: SendResult['replies'] = [];
    for (const modelId of modelIds) {
      const base = this.answerInfo(modelId, 'streaming', conv);
      const old = reuse.get(modelId);
      const msg = old
        ? sql.updateMessage(this.s.db, old, { content: '', stats: { ...base } })
        : sql.addMessage(this.s.db, conv.id, { role: 'assistant', content: '', modelId, stats: { ...base } });
      const messages = buildHistory(conv.systemPrompt, history, modelId);
      try {
        const requestId = this.start({ conversationId: conv.id, messageId: msg.id, modelId, text: '' }, { input: { kind: 'messages', messages }, sampling: conv.sampling }, base);
        replies.push({ requestId, messageId: msg.id, modelId });
      } catch (err) {
        // Not loaded, still loading: the answer shows the reason where it would have appeared.
        const error = err instanceof DeepenError ? err.toInfo() : { code: 'internal' as const, message: String(err) };
        sql.updateMessage(this.s.db, msg.id, { stats: { ...base, state: 'failed', stopReason: 'error', error } });
        replies.push({ requestId: `failed-${msg.id}`, messageId: msg.id, modelId });
      }
    }
    return replies;
  }

  private answerInfo(modelId: string, state: AnswerInfo['state'], conv: ConversationInfo | null): AnswerInfo {
    const m = this.pool.get(modelId);
    return {
      state,
      modelId,
      modelName: m?.name ?? getModel(this.s.db, modelId)?.name ?? modelId,
      provider: m?.provider ?? null,
      precision: m?.precision ?? null,
      mode: m?.mode ?? null,
      note: m?.note ?? null,
      stopReason: null,
      seed: null,
      stats: null,
      error: null,
      sampling: conv?.sampling ?? null,
    };
  }

  private start(a: ActiveAnswer, req: PoolRequest, base = this.answerInfo(a.modelId, 'streaming', null)): string {
    const requestId = req.requestId ?? randomUUID();
    this.active.set(requestId, a);
    try {
      this.pool.generate(a.modelId, { ...req, requestId }, {
        onText: (delta, tokens) => {
          a.text += delta;
          this.s.emit('chat.token', { requestId, conversationId: a.conversationId, messageId: a.messageId, modelId: a.modelId, delta, tokens });
        },
        onDone: (answer) => this.finish(requestId, a, base, answer, null, answer.text),
        onError: (error, text) => this.finish(requestId, a, base, null, error, text),
      });
    } catch (err) {
      this.active.delete(requestId);
      throw err;
    }
    return requestId;
  }

  private finish(requestId: string, a: ActiveAnswer, base: AnswerInfo, answer: WorkerAnswer | null, error: ErrorInfo | null, text: string): void {
    this.active.delete(requestId);
    const stopReason = answer?.stopReason ?? (error?.code === 'cancelled' ? 'cancelled' : 'error');
    const info: AnswerInfo = {
      ...base,
      state: error ? (error.code === 'cancelled' ? 'cancelled' : 'failed') : stopReason === 'cancelled' ? 'cancelled' : 'done',
      mode: answer?.mode ?? base.mode,
      note: answer?.note ?? base.note,
      stopReason,
      seed: answer?.seed ?? null,
      stats: answer?.stats ?? null,
      error,
      droppedMessages: answer?.droppedMessages ?? 0,
    };
    let message: ChatMessageInfo | null = null;
    if (a.messageId) {
      try {
        message = toMessageInfo(sql.updateMessage(this.s.db, a.messageId, { content: text, stats: { ...info } }));
      } catch {
        // the conversation was deleted while the answer streamed
      }
    }
    const outcome: GenerateOutcome = { text, promptIds: answer?.promptIds ?? [], newIds: answer?.newIds ?? [], stopReason, answer: info };
    this.s.emit('chat.done', { requestId, conversationId: a.conversationId, messageId: a.messageId, modelId: a.modelId, outcome, message });
  }
}

function uniqueIds(ids: string[]): string[] {
  return [...new Set(ids.filter((x) => typeof x === 'string' && x.length > 0))];
}

export function toInfo(c: sql.Conversation | sql.ConversationSummary): ConversationInfo {
  const info: ConversationInfo = { id: c.id, title: c.title, systemPrompt: c.systemPrompt, modelIds: c.modelIds, sampling: storedSampling(c.sampling), createdAt: c.createdAt, updatedAt: c.updatedAt };
  if ('messageCount' in c) info.messageCount = c.messageCount;
  return info;
}

export function toMessageInfo(m: sql.Message): ChatMessageInfo {
  return { id: m.id, conversationId: m.conversationId, seq: m.seq, role: m.role, content: m.content, modelId: m.modelId, answer: m.role === 'assistant' && m.stats ? (m.stats as unknown as AnswerInfo) : null, createdAt: m.createdAt };
}
