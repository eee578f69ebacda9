import { DeepenError } from '../../shared/errors';
import { planSampling, type SamplingSettings } from './sampling';
import { StopStringFilter, TokenStopper, type StopReason } from './stopping';
import type { StreamDecoder } from './stream-decoder';

// The generation loop: prefill the prompt, then sample, stream, check the stop
// conditions and step the decoder one token at a time. It knows nothing of
// ONNX: any decoder with this shape will do (src/native/model builds the real
// one; tests use a fake).

/** A causal LM with a KV cache, one sequence at a time. */
export interface Decoder {
  /** Runs the whole prompt from an empty cache; returns the logits of its last position (vocab-sized). */
  prefill(ids: number[]): Float32Array | Promise<Float32Array>;
  /** Appends one token to the cache; returns the logits for the position after it. */
  step(id: number): Float32Array | Promise<Float32Array>;
  /** Empties the cache. */
  reset(): void;
  /** Most positions the model handles (prompt + generated). */
  readonly maxContext: number;
}

/** What the loop needs from a tokenizer (TextTokenizer has it). */
export interface GenerationTokenizer {
  streamDecoder(opts?: { skipSpecialTokens?: boolean }): StreamDecoder;
}

export interface GenerateOptions {
  sampling: SamplingSettings;
  /** Upper bound on new tokens; the context length also bounds them. Default: whatever the context leaves. */
  maxNewTokens?: number;
  /** Ids that end generation (TextTokenizer.eosIds, plus endOfTurnIds in chat mode). */
  eosIds?: readonly number[];
  ignoreEos?: boolean;
  stopStrings?: readonly string[];
  signal?: AbortSignal;
  /** Streamed text, in order; joined, it equals the result's text. */
  onText?: (delta: string) => void;
  /** Every sampled id, EOS included. */
  onToken?: (id: number) => void;
  /** Clock in milliseconds (tests pin it). */
  now?: () => number;
}

export interface GenerationStats {
  promptTokens: number;
  generatedTokens: number;
  /** From the call to the first sampled token: prefill plus one sampling. */
  timeToFirstTokenMs: number;
  prefillMs: number;
  prefillTokensPerSecond: number;
  /** From the first token to the last: the steady per-token rate users see. */
  decodeMs: number;
  /** null when fewer than two tokens were generated. */
  decodeTokensPerSecond: number | null;
  totalMs: number;
}

export interface GenerationResult {
  promptIds: number[];
  /** Sampled ids, including an EOS that ended generation. */
  newIds: number[];
  /** The streamed text: special tokens skipped, cut before a stop string. */
  text: string;
  stopReason: StopReason;
  stopString?: string;
  /** The seed used (drawn when none was given); null for greedy. */
  seed: number | null;
  stats: GenerationStats;
}

export async function generate(decoder: Decoder, tokenizer: GenerationTokenizer, promptIds: readonly number[], opts: GenerateOptions): Promise<GenerationResult> {
  const now = opts.now ?? (() => performance.now());
  const start = now();
  const prompt = [...promptIds];
  checkPrompt(prompt.length, decoder.maxContext);
  const plan = planSampling(opts.sampling);
  const maxNewTokens = opts.maxNewTokens ?? decoder.maxContext - prompt.length;
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens > 0)) {
    throw new DeepenError('bad_request', `maxNewTokens is ${maxNewTokens}, but it must be a whole number of at least 1.`, { maxNewTokens });
  }
  const stopper = new TokenStopper({ eosIds: opts.eosIds ?? [], ignoreEos: opts.ignoreEos, maxNewTokens, maxContext: decoder.maxContext, promptLength: prompt.length });
  const stream = tokenizer.streamDecoder({ skipSpecialTokens: true });
  const stops = new StopStringFilter(opts.stopStrings ?? []);
  const context = [...prompt]; // what the repetition penalty looks at
  const newIds: number[] = [];
  let text = '';
  const emit = (delta: string): void => {
    if (!delta) return;
    text += delta;
    opts.onText?.(delta);
  };

  decoder.reset();
  let logits = await decoder.prefill(prompt);
  const prefillMs = now() - start;
  let firstTokenAt = 0;
  let stopReason: StopReason | null = null;
  let stopString: string | undefined;

  for (;;) {
    if (opts.signal?.aborted) {
      stopReason = 'cancelled';
      break;
    }
    const id = pick(logits, context, plan, newIds.length);
    if (newIds.length === 0) firstTokenAt = now();
    newIds.push(id);
    context.push(id);
    opts.onToken?.(id);
    if (stopper.isEos(id)) {
      stopReason = 'eos';
      break;
    }
    const shown = stops.push(stream.push(id));
    emit(shown.text);
    if (shown.stopped) {
      stopReason = 'stop_string';
      stopString = shown.stopString;
      break;
    }
    stopReason = stopper.limitReached(newIds.length);
    if (stopReason) break;
    // Let a pending cancel (a message, a socket close) reach us before the next step.
    await yieldToEventLoop();
    if (opts.signal?.aborted) {
      stopReason = 'cancelled';
      break;
    }
    logits = await decoder.step(id);
  }

  if (stopReason !== 'stop_string') emit(stops.push(stream.flush()).text + stops.flush());
  const end = now();
  const decodeMs = newIds.length > 0 ? end - firstTokenAt : 0;
  return {
    promptIds: prompt,
    newIds,
    text,
    stopReason,
    stopString,
    seed: plan.seed,
    stats: {
      promptTokens: prompt.length,
      generatedTokens: newIds.length,
      timeToFirstTokenMs: newIds.length > 0 ? firstTokenAt - start : end - start,
      prefillMs,
      prefillTokensPerSecond: prefillMs > 0 ? (prompt.length * 1000) / prefillMs : Infinity,
      decodeMs,
      decodeTokensPerSecond: newIds.length > 1 && decodeMs > 0 ? ((newIds.length - 1) * 1000) / decodeMs : null,
      totalMs: end - start,
    },
  };
}

/** Refuses prompts the model cannot take, naming both numbers. */
export function checkPrompt(promptTokens: number, maxContext: number): void {
  if (promptTokens === 0) {
    throw new DeepenError('bad_request', 'The prompt is empty: there is nothing for the model to continue. Type a message first.');
  }
  if (promptTokens >= maxContext) {
    throw new DeepenError(
      'bad_request',
      `The prompt is ${promptTokens} tokens long, but this model's context holds ${maxContext} tokens in all, which leaves no room for an answer. ` +
        'Shorten the message or the system prompt, or start a new conversation.',
      { promptTokens, maxContext },
    );
  }
}

function pick(raw: Float32Array, context: readonly number[], plan: ReturnType<typeof planSampling>, index: number): number {
  // Processors write in place; the decoder may hand us its own output buffer.
  const logits = Float32Array.from(raw);
  for (let i = 0; i < logits.length; i++) {
    if (Number.isNaN(logits[i])) {
      throw new DeepenError(
        'internal',
        `The model produced NaN logits for new token ${index + 1}. Its weights may be damaged, or the precision too low for them: try float32, or check the checkpoint.`,
        { tokenIndex: index, vocabIndex: i },
      );
    }
  }
  for (const p of plan.processors) p.apply(logits, context);
  return plan.sampler.sample(logits);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
