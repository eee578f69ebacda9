// How much memory a model needs to chat, worked out from its summary before
// anything is loaded, so that a model too large for this machine is refused
// with the numbers instead of taking the machine down. Estimates, not
// measurements: weights at the chosen precision, the KV cache for the chosen
// context, and the working memory of a prompt that fills that context.
import os from 'node:os';
import type { LoadEstimate } from '../../../shared/contract/chat';
import type { ModelSummary } from '../../../shared/contract/models';

/** Kept free for the system, the app and ONNX Runtime's own allocations. */
export const HEADROOM_BYTES = 512 * 2 ** 20;
/** The chat KV cache is sized for this many positions unless asked otherwise. */
export const DEFAULT_CHAT_CONTEXT = 2048;
/** Each tensor in the weights file starts on a 64 KiB boundary. */
const WEIGHT_ALIGNMENT = 64 * 1024;
/** ONNX Runtime, the graph, the tokenizer and the worker thread itself. */
const RUNTIME_BYTES = 96 * 2 ** 20;

export type Shape = Pick<ModelSummary, 'paramsTotal' | 'layers' | 'hiddenSize' | 'intermediateSize' | 'heads' | 'kvHeads' | 'headDim' | 'vocabSize' | 'maxPositionEmbeddings'>;

export function chatContextLength(shape: Shape, requested?: number): number {
  const limit = shape.maxPositionEmbeddings;
  if (requested === undefined) return Math.min(limit, DEFAULT_CHAT_CONTEXT);
  return Math.max(16, Math.min(limit, Math.floor(requested)));
}

/**
 * Memory the system has for us: MemAvailable on Linux (what libuv reports),
 * capped by DEEPEN_MEMORY_LIMIT (bytes, or "512MB", "2GiB") so that small
 * machines and the refusal path can be tried anywhere.
 */
export function freeMemoryBytes(env: NodeJS.ProcessEnv = process.env): number {
  const free = os.freemem();
  const limit = env.DEEPEN_MEMORY_LIMIT ? parseBytes(env.DEEPEN_MEMORY_LIMIT) : null;
  return limit === null ? free : Math.min(free, limit);
}

export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? '').toUpperCase().replace(/B$/, '');
  const powers: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, KI: 2 ** 10, MI: 2 ** 20, GI: 2 ** 30, TI: 2 ** 40 };
  return unit in powers ? Math.floor(Number(m[1]) * powers[unit]) : null;
}

export function formatGiB(bytes: number): string {
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`;
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

export interface EstimateInput {
  modelId: string;
  name: string;
  shape: Shape;
  precision: 'fp32' | 'fp16';
  contextLength: number;
  freeBytes: number;
  headroomBytes?: number;
}

export function estimateChatMemory(input: EstimateInput): LoadEstimate {
  const { shape: s, precision, contextLength: ctx } = input;
  const bytes = precision === 'fp16' ? 2 : 4;
  const tensors = 9 * s.layers + 3;
  const weightsBytes = s.paramsTotal * bytes + tensors * WEIGHT_ALIGNMENT;
  // K and V per layer: (kvHeads, ctx, headDim) each, in the compute dtype.
  const kvCacheBytes = 2 * s.layers * s.kvHeads * s.headDim * ctx * bytes;
  // A prompt that fills the context: attention scores (heads, T, T) in fp32,
  // hidden states and the MLP's three intermediate tensors, last-token logits.
  const workingBytes = s.heads * ctx * ctx * 4 + ctx * (4 * s.hiddenSize + 3 * s.intermediateSize) * 4 + s.vocabSize * 4 + RUNTIME_BYTES;
  const totalBytes = weightsBytes + kvCacheBytes + workingBytes;
  const headroomBytes = input.headroomBytes ?? HEADROOM_BYTES;
  const fits = totalBytes + headroomBytes <= input.freeBytes;
  const parts = `weights ${formatGiB(weightsBytes)} in ${precision} + KV cache ${formatGiB(kvCacheBytes)} for ${ctx} tokens + working memory ${formatGiB(workingBytes)}`;
  const explanation = fits
    ? `${input.name} needs about ${formatGiB(totalBytes)} (${parts}); ${formatGiB(input.freeBytes)} is free.`
    : `${input.name} needs about ${formatGiB(totalBytes)} (${parts}), but only ${formatGiB(input.freeBytes)} is free and ${formatGiB(headroomBytes)} is kept for the system. ` +
      `${precision === 'fp32' ? 'Load it in fp16, choose' : 'Choose'} a shorter context, unload another model, or close other programs.`;
  return { modelId: input.modelId, precision, contextLength: ctx, weightsBytes, kvCacheBytes, workingBytes, totalBytes, freeBytes: input.freeBytes, headroomBytes, fits, explanation };
}
