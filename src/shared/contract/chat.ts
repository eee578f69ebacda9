// The chat domain of the contract: loaded models (the model pool), generation
// streamed as events, and persisted conversations with compare mode (one
// prompt answered by several models, one assistant message per model).
import { event, method } from './define';
import type { JobStarted } from './jobs';
import type { ProviderName } from './engine';
import type { ErrorInfo } from '../errors';

// ---------------------------------------------------------------- sampling

export type SamplingPresetName = 'precise' | 'balanced' | 'creative';

/** The sampling panel: what the generator takes plus the answer's limits. */
export interface ChatSampling {
  /** the preset these values came from; 'custom' once a field was changed by hand */
  preset: SamplingPresetName | 'custom';
  /** 0 means greedy decoding */
  temperature: number;
  /** keep the k most likely tokens; 0 turns it off */
  topK: number;
  /** keep the smallest set of most likely tokens whose probability reaches p; 1 turns it off */
  topP: number;
  /** drop tokens less likely than minP × the most likely one; 0 turns it off */
  minP: number;
  /** >1 discourages tokens already in the context (prompt and output); 1 turns it off */
  repetitionPenalty: number;
  /** null = a fresh seed per answer (reported in the stats, so a good answer can be reproduced) */
  seed: number | null;
  /** most new tokens per answer */
  maxTokens: number;
  /** answer ends before any of these */
  stop: string[];
}

export const samplingPresets: Record<SamplingPresetName, Omit<ChatSampling, 'preset' | 'seed' | 'stop' | 'maxTokens'>> = {
  // Greedy: the same prompt always gives the same answer; best to compare models.
  precise: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1.05 },
  balanced: { temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1 },
  // top-k bounds the nucleus: sorting a whole flat 32k-128k vocabulary each token costs more than a small model's step.
  creative: { temperature: 1.1, topK: 100, topP: 0.98, minP: 0.02, repetitionPenalty: 1.05 },
};

export function presetSampling(name: SamplingPresetName, keep: Partial<ChatSampling> = {}): ChatSampling {
  return { ...samplingPresets[name], preset: name, seed: keep.seed ?? null, maxTokens: keep.maxTokens ?? 512, stop: keep.stop ?? [] };
}

export const defaultChatSampling: ChatSampling = presetSampling('balanced');

// ---------------------------------------------------------------- model pool

export type LoadPrecision = 'auto' | 'fp32' | 'fp16';

/** Memory a model needs once loaded, before it is loaded. */
export interface LoadEstimate {
  modelId: string;
  precision: 'fp32' | 'fp16';
  /** positions the KV cache is sized for */
  contextLength: number;
  weightsBytes: number;
  kvCacheBytes: number;
  /** attention scores and MLP activations of a full-context prompt, plus the runtime */
  workingBytes: number;
  totalBytes: number;
  /** memory the system reports free now (capped by DEEPEN_MEMORY_LIMIT) */
  freeBytes: number;
  /** kept free for the system and the app */
  headroomBytes: number;
  fits: boolean;
  /** the numbers in words, for a refusal or a tooltip */
  explanation: string;
}

export interface LoadParams {
  modelId: string;
  precision?: LoadPrecision;
  /** KV cache size in tokens (default: the model's context, at most 2048) */
  contextLength?: number;
}

export type LoadedState = 'loading' | 'ready' | 'failed';

export interface PoolModel {
  modelId: string;
  name: string;
  path: string;
  state: LoadedState;
  /** 0..1 while loading */
  progress: number;
  message: string;
  jobId: string | null;
  /** the EP it runs on (cpu when the chosen one failed) */
  provider: ProviderName | null;
  /** what Settings asked for */
  requestedProvider: ProviderName;
  /** why it runs on cpu instead of the requested provider */
  fallbackReason: string | null;
  precision: 'fp32' | 'fp16';
  variant: 'plain' | 'fused' | null;
  contextLength: number;
  /** estimated before loading */
  estimate: LoadEstimate;
  /** weights file size once loaded, else the estimate's weights */
  weightsBytes: number;
  /** weights + KV cache + working memory, with the real weights size once loaded */
  memoryBytes: number;
  /** 'chat': the model's template; 'completion': no template, plain continuation */
  mode: 'chat' | 'completion' | null;
  /** shown beside a completion-mode model */
  note: string | null;
  /** the tokenizer could not be read: text chat is impossible (token-id generation still works) */
  tokenizerError: ErrorInfo | null;
  /** the chat template could not be parsed: chat messages fail with this (plain prompts still work) */
  templateError: ErrorInfo | null;
  /** why loading failed (state 'failed') */
  error: ErrorInfo | null;
  loadedAt: number | null;
  /** answers waiting or running on this model */
  busy: number;
}

// ---------------------------------------------------------------- generation

export type ChatStopReason = 'eos' | 'stop_string' | 'max_tokens' | 'context_full' | 'cancelled' | 'error';

/** What an answer reports (stored with the assistant message). */
export interface GenerationStatsInfo {
  promptTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  prefillTokensPerSecond: number;
  /** null with fewer than two tokens */
  decodeTokensPerSecond: number | null;
  totalMs: number;
}

export interface AnswerInfo {
  state: 'streaming' | 'done' | 'cancelled' | 'failed' | 'interrupted';
  modelId: string;
  modelName: string;
  provider: ProviderName | null;
  precision: 'fp32' | 'fp16' | null;
  mode: 'chat' | 'completion' | null;
  note: string | null;
  stopReason: ChatStopReason | null;
  seed: number | null;
  stats: GenerationStatsInfo | null;
  error: ErrorInfo | null;
  sampling: ChatSampling | null;
  /** oldest messages left out so that the conversation fit the model's context */
  droppedMessages?: number;
}

/** Raw generation (OpenAI endpoints, scripts): one of messages / prompt / promptIds. */
export interface GenerateParams {
  modelId: string;
  /** chat messages, rendered with the model's template (or as plain text without one) */
  messages?: { role: string; content: string }[];
  /** plain text to continue (BOS added as the tokenizer says) */
  prompt?: string;
  promptIds?: number[];
  sampling?: Partial<ChatSampling>;
  ignoreEos?: boolean;
  /** chosen by the caller so it can subscribe before the first token */
  requestId?: string;
}

export interface GenerateOutcome {
  text: string;
  promptIds: number[];
  newIds: number[];
  stopReason: ChatStopReason;
  answer: AnswerInfo;
}

// ---------------------------------------------------------------- conversations

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ConversationInfo {
  id: string;
  title: string;
  systemPrompt: string;
  /** one model: plain chat; two or more: compare mode */
  modelIds: string[];
  sampling: ChatSampling;
  createdAt: number;
  updatedAt: number;
  messageCount?: number;
}

export interface ChatMessageInfo {
  id: string;
  conversationId: string;
  seq: number;
  role: ChatRole;
  content: string;
  modelId: string | null;
  /** assistant messages: how the answer was made */
  answer: AnswerInfo | null;
  createdAt: number;
}

export interface ConversationDetail {
  conversation: ConversationInfo;
  messages: ChatMessageInfo[];
  /** answers of this conversation still streaming (after a reload), with their text so far */
  streaming: { requestId: string; messageId: string; modelId: string; text: string }[];
}

export interface ConversationSearchHit {
  conversationId: string;
  title: string;
  messageId: string;
  role: ChatRole;
  /** matches wrapped in [ and ] */
  snippet: string;
  createdAt: number;
}

export interface SendResult {
  userMessage: ChatMessageInfo | null;
  /** one per model, streaming from now on */
  replies: { requestId: string; messageId: string; modelId: string }[];
}

export interface ConversationPatch {
  id: string;
  title?: string;
  systemPrompt?: string;
  modelIds?: string[];
  sampling?: ChatSampling;
}

export const chatMethods = {
  // model pool
  'chat.models': method<Record<string, never>, PoolModel[]>(),
  'chat.estimate': method<LoadParams, LoadEstimate>(),
  'chat.load': method<LoadParams, JobStarted & { model: PoolModel }>(),
  'chat.unload': method<{ modelId: string }, { modelId: string; unloaded: boolean }>(),
  // raw generation (streams chat.token / chat.done with no conversation)
  'chat.generate': method<GenerateParams, { requestId: string }>(),
  'chat.cancel': method<{ requestId?: string; conversationId?: string }, { cancelled: number }>(),
  // conversations
  'chat.list': method<{ limit?: number }, ConversationInfo[]>(),
  'chat.create': method<{ title?: string; systemPrompt?: string; modelIds?: string[]; sampling?: ChatSampling }, ConversationInfo>(),
  'chat.get': method<{ id: string }, ConversationDetail>(),
  'chat.update': method<ConversationPatch, ConversationInfo>(),
  'chat.delete': method<{ id: string }, { id: string }>(),
  'chat.search': method<{ query: string; limit?: number }, ConversationSearchHit[]>(),
  /** a user turn, answered by every model of the conversation (or `modelIds`, which then become the conversation's) */
  'chat.send': method<{ conversationId: string; content: string; modelIds?: string[] }, SendResult>(),
  /** the last turn's answers again (optionally only those of some models) */
  'chat.regenerate': method<{ conversationId: string; modelIds?: string[] }, SendResult>(),
  /** changes a user turn, drops everything after it and answers again */
  'chat.edit': method<{ conversationId: string; messageId: string; content: string }, SendResult>(),
};

export const chatEvents = {
  /** a loaded model changed (progress, ready, failed) or was unloaded (`removed`) */
  'chat.model': event<{ modelId: string; model: PoolModel | null; removed?: boolean }>(),
  /** text of a streaming answer; `tokens` sampled since the last event */
  'chat.token': event<{ requestId: string; conversationId: string | null; messageId: string | null; modelId: string; delta: string; tokens: number }>(),
  /** an answer ended (done, stopped or failed); `message` is the stored assistant message */
  'chat.done': event<{
    requestId: string;
    conversationId: string | null;
    messageId: string | null;
    modelId: string;
    outcome: GenerateOutcome;
    message: ChatMessageInfo | null;
  }>(),
  /** a conversation was created, renamed, changed or deleted (`removed`) */
  'chat.conversation': event<{ id: string; removed?: boolean }>(),
};
