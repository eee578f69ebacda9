// Conversations and the open one: its messages, the answers streaming into
// it (text kept per message as `chat.token` events arrive, replaced by the
// stored message on `chat.done`), its models (two or more: compare mode),
// system prompt and sampling. Before the first message a chat is a draft:
// nothing is stored until something is sent.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ChatMessageInfo, ChatSampling, ConversationInfo, ConversationSearchHit } from '@shared/contract';
// A value, not a type: by relative path, since the store tests (vitest) resolve no @shared alias.
import { defaultChatSampling } from '../../../shared/contract/chat';
import { useApi } from '../api/useApi';
import { useNotificationsStore } from './useNotificationsStore';

export interface Turn {
  /** null for answers before any user message (none in practice) */
  user: ChatMessageInfo | null;
  answers: ChatMessageInfo[];
}

/** A user message and the answers that follow it, one per model in compare mode. */
export function groupTurns(messages: readonly ChatMessageInfo[]): Turn[] {
  const turns: Turn[] = [];
  for (const m of messages) {
    if (m.role === 'assistant') {
      if (!turns.length) turns.push({ user: null, answers: [] });
      turns[turns.length - 1].answers.push(m);
    } else if (m.role === 'user') turns.push({ user: m, answers: [] });
  }
  return turns;
}

export interface LiveAnswer {
  requestId: string;
  modelId: string;
  text: string;
  tokens: number;
  /** when the first text arrived (ms), for the live tokens/s */
  firstAt: number | null;
}

interface Settings {
  modelIds: string[];
  systemPrompt: string;
  sampling: ChatSampling;
}

const SAVE_DELAY_MS = 400;

export const useChatStore = defineStore('chat', () => {
  const api = useApi();
  const notify = useNotificationsStore();

  const conversations = ref<ConversationInfo[]>([]);
  const listLoaded = ref(false);
  const conversation = ref<ConversationInfo | null>(null);
  const messages = ref<ChatMessageInfo[]>([]);
  const draft = ref<Settings>({ modelIds: [], systemPrompt: '', sampling: { ...defaultChatSampling } });
  const live = ref<Record<string, LiveAnswer>>({});
  const searchQuery = ref('');
  const searchHits = ref<ConversationSearchHit[]>([]);
  const busy = ref(false);
  /** why the last send/regenerate/edit was refused, shown above the composer */
  const error = ref<string | null>(null);

  const activeId = computed(() => conversation.value?.id ?? null);
  const settings = computed<Settings>(() => conversation.value ?? draft.value);
  const turns = computed(() => groupTurns(messages.value));
  // Before its first token an answer exists only as a stored "streaming" message.
  const streaming = computed(() => Object.keys(live.value).length > 0 || messages.value.some((m) => m.answer?.state === 'streaming'));
  const compare = computed(() => settings.value.modelIds.length > 1);

  // An answer can finish while a chat.get is on its way; its stale "streaming" copy must not win.
  const finished = new Map<string, ChatMessageInfo>();
  const fresher = (list: ChatMessageInfo[]) => list.map((m) => (m.answer?.state === 'streaming' && finished.get(m.id)) || m);

  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let pendingPatch: Partial<Settings> = {};

  async function loadList(): Promise<void> {
    const list = await notify.attempt('Could not list the conversations', () => api.call('chat.list', {}));
    if (!list) return;
    conversations.value = list;
    // A new chat starts with the models and settings of the latest one.
    if (!listLoaded.value && list[0] && !conversation.value && !draft.value.modelIds.length) {
      draft.value = { modelIds: [...list[0].modelIds], systemPrompt: list[0].systemPrompt, sampling: { ...list[0].sampling } };
    }
    listLoaded.value = true;
  }

  async function open(id: string): Promise<void> {
    await flushSettings();
    error.value = null;
    const detail = await notify.attempt('Could not open the conversation', () => api.call('chat.get', { id }));
    if (!detail) return;
    conversation.value = detail.conversation;
    messages.value = fresher(detail.messages);
    live.value = {};
    for (const s of detail.streaming) live.value[s.messageId] = { requestId: s.requestId, modelId: s.modelId, text: s.text, tokens: 0, firstAt: null };
  }

  async function reload(): Promise<void> {
    if (!conversation.value) return;
    const detail = await api.call('chat.get', { id: conversation.value.id });
    conversation.value = { ...detail.conversation, ...pendingPatch };
    messages.value = fresher(detail.messages);
  }

  /** A fresh draft with the current models and settings. */
  async function newChat(): Promise<void> {
    await flushSettings();
    const s = settings.value;
    draft.value = { modelIds: [...s.modelIds], systemPrompt: s.systemPrompt, sampling: { ...s.sampling } };
    conversation.value = null;
    messages.value = [];
    live.value = {};
    error.value = null;
  }

  async function rename(id: string, title: string): Promise<boolean> {
    const updated = await notify.attempt('Could not rename the conversation', () => api.call('chat.update', { id, title }));
    if (!updated) return false;
    replaceInList(updated);
    if (conversation.value?.id === id) conversation.value = { ...conversation.value, title: updated.title };
    return true;
  }

  async function remove(id: string): Promise<void> {
    const done = await notify.attempt('Could not delete the conversation', () => api.call('chat.delete', { id }));
    if (!done) return;
    conversations.value = conversations.value.filter((c) => c.id !== id);
    if (conversation.value?.id === id) await newChat();
  }

  async function search(query: string): Promise<void> {
    searchQuery.value = query;
    if (!query.trim()) {
      searchHits.value = [];
      return;
    }
    const hits = await notify.attempt('Search failed', () => api.call('chat.search', { query }));
    if (hits && searchQuery.value === query) searchHits.value = hits;
  }

  /** Changes the models, system prompt or sampling: at once on screen, saved shortly after. */
  function updateSettings(patch: Partial<Settings>): void {
    if (!conversation.value) {
      draft.value = { ...draft.value, ...patch };
      return;
    }
    conversation.value = { ...conversation.value, ...patch };
    pendingPatch = { ...pendingPatch, ...patch };
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void flushSettings(), SAVE_DELAY_MS);
  }

  async function flushSettings(): Promise<void> {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    const patch = pendingPatch;
    pendingPatch = {};
    if (!conversation.value || !Object.keys(patch).length) return;
    const id = conversation.value.id;
    const saved = await notify.attempt('Could not save the chat settings', () => api.call('chat.update', { id, ...patch }));
    if (saved) replaceInList(saved);
  }

  /** Runs a turn-starting call; its refusal (no model loaded, still answering…) shows above the composer. */
  async function turn(run: (conversationId: string) => Promise<unknown>): Promise<boolean> {
    if (busy.value) return false;
    busy.value = true;
    error.value = null;
    try {
      if (!conversation.value) {
        const created = await api.call('chat.create', { ...draft.value });
        conversation.value = created;
        messages.value = [];
        conversations.value = [created, ...conversations.value];
      } else await flushSettings();
      await run(conversation.value.id);
      await reload();
      return true;
    } catch (err) {
      error.value = (err as Error).message;
      return false;
    } finally {
      busy.value = false;
    }
  }

  const send = (content: string) => turn((conversationId) => api.call('chat.send', { conversationId, content }));
  const regenerate = (modelIds?: string[]) => turn((conversationId) => api.call('chat.regenerate', modelIds ? { conversationId, modelIds } : { conversationId }));
  const edit = (messageId: string, content: string) => turn((conversationId) => api.call('chat.edit', { conversationId, messageId, content }));

  async function stop(): Promise<void> {
    if (!conversation.value) return;
    await notify.attempt('Could not stop the answer', () => api.call('chat.cancel', { conversationId: conversation.value!.id }));
  }

  function replaceInList(c: ConversationInfo): void {
    const rest = conversations.value.filter((x) => x.id !== c.id);
    conversations.value = [c, ...rest].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  api.on('chat.token', (t) => {
    if (!t.conversationId || t.conversationId !== activeId.value || !t.messageId) return;
    const entry = (live.value[t.messageId] ??= { requestId: t.requestId, modelId: t.modelId, text: '', tokens: 0, firstAt: null });
    entry.text += t.delta;
    entry.tokens += t.tokens;
    entry.firstAt ??= Date.now();
  });

  api.on('chat.done', (d) => {
    if (!d.conversationId || d.conversationId !== activeId.value || !d.messageId) return;
    delete live.value[d.messageId];
    if (!d.message) return;
    finished.set(d.messageId, d.message);
    const i = messages.value.findIndex((m) => m.id === d.messageId);
    if (i >= 0) messages.value[i] = d.message;
    else void reload();
  });

  let listTimer: ReturnType<typeof setTimeout> | null = null;
  api.on('chat.conversation', ({ id, removed }) => {
    if (removed && conversation.value?.id === id) void newChat();
    if (listTimer) clearTimeout(listTimer);
    listTimer = setTimeout(() => void loadList(), 150);
  });

  return {
    conversations,
    listLoaded,
    conversation,
    messages,
    draft,
    live,
    searchQuery,
    searchHits,
    busy,
    error,
    activeId,
    settings,
    turns,
    streaming,
    compare,
    loadList,
    open,
    newChat,
    rename,
    remove,
    search,
    updateSettings,
    flushSettings,
    send,
    regenerate,
    edit,
    stop,
  };
});
