// A model that turns text into text: the ONNX decoder (src/native/model), its
// tokenizer and chat template (src/native/generate), and the step from a
// request (chat messages, plain text or token ids) to a streamed answer.
// The model worker holds one of these per loaded model; `deepen generate` and
// `deepen chat` use one in their own process.
//
// A model folder without a usable tokenizer still loads: it can generate from
// token ids, and text requests fail with the tokenizer's own message, which
// the chat pane and the CLI show as they are.
import path from 'node:path';
import { DeepenError, toErrorInfo, type ErrorInfo } from '../../../shared/errors';
import type { ChatSampling } from '../../../shared/contract/chat';
import { loadModel, type LoadedModel } from '../../model/load';
import { contextLength as modelContextLength } from '../../model/rope';
import type { Provider } from '../../onnx/runtime';
import { generate, type Decoder as LoopDecoder, type GenerationResult, type GenerationTokenizer } from '../../generate/generator';
import { readJsonObjectIfExists } from '../../generate/model-files';
import { buildChatPrompt, loadTextModelAssets, type TextModelAssets } from '../../generate/prompt';
import type { SamplingSettings } from '../../generate/sampling';
import { StreamDecoder } from '../../generate/stream-decoder';

export interface TextModelLoadOptions {
  provider: Provider;
  precision: 'fp32' | 'fp16';
  /** positions the chat may use (≤ the model's own context) */
  contextLength: number;
  cacheDir: string;
  intraOpThreads?: number;
  onProgress?: (fraction: number, message: string) => void;
}

export interface TextModelFacts {
  provider: Provider;
  fallbackReason: string | null;
  precision: 'fp32' | 'fp16';
  variant: 'plain' | 'fused';
  weightsBytes: number;
  contextLength: number;
  mode: 'chat' | 'completion' | null;
  note: string | null;
  tokenizerError: ErrorInfo | null;
  templateError: ErrorInfo | null;
}

export type TextRequestInput =
  | { kind: 'messages'; messages: { role: string; content: string }[] }
  | { kind: 'prompt'; text: string }
  | { kind: 'ids'; ids: number[] };

export interface TextRequest {
  input: TextRequestInput;
  sampling: ChatSampling;
  ignoreEos?: boolean;
  onText?: (delta: string) => void;
  /** every sampled id */
  onToken?: (id: number) => void;
  /** polled between tokens; true stops the answer where it is */
  isCancelled?: () => boolean;
}

export interface TextAnswer extends GenerationResult {
  mode: 'chat' | 'completion' | null;
  note: string | null;
  /** oldest messages left out so the conversation fits the context */
  droppedMessages: number;
}

/** Streams nothing: generation from ids works without a tokenizer. */
const silentTokenizer: GenerationTokenizer = { streamDecoder: () => new StreamDecoder(() => '') };

export class TextModel {
  private readonly decoder: LoopDecoder;

  private constructor(
    readonly model: LoadedModel,
    readonly assets: TextModelAssets | null,
    readonly tokenizerError: ErrorInfo | null,
    readonly templateError: ErrorInfo | null,
    readonly contextLength: number,
    private readonly configEosIds: number[],
  ) {
    const d = model.createDecoder();
    // The model's decoder appends to its cache; the loop expects prefill to start afresh.
    this.decoder = {
      maxContext: contextLength,
      reset: () => d.reset(),
      prefill: (ids) => d.prefill(ids),
      step: (id) => d.step(id),
    };
  }

  static async load(dir: string, opts: TextModelLoadOptions): Promise<TextModel> {
    const progress = opts.onProgress ?? (() => undefined);
    // Text assets first: they are quick, and a broken tokenizer is worth knowing before minutes of weight conversion.
    progress(0, 'Reading the tokenizer and chat template');
    let assets: TextModelAssets | null = null;
    let tokenizerError: ErrorInfo | null = null;
    let templateError: ErrorInfo | null = null;
    try {
      assets = await loadTextModelAssets(dir);
    } catch (err) {
      tokenizerError = toErrorInfo(err);
    }
    if (assets) {
      try {
        assets.chat.check();
      } catch (err) {
        templateError = toErrorInfo(err);
      }
    }
    const model = await loadModel(dir, {
      provider: opts.provider,
      precision: opts.precision,
      cacheDir: opts.cacheDir,
      intraOpThreads: opts.intraOpThreads,
      fallbackToCpu: true,
      onProgress: (f, m) => progress(0.02 + 0.98 * f, m),
    });
    // Scaled RoPE (dynamic NTK, yarn, llama3) reaches past max_position_embeddings.
    const contextLength = Math.min(opts.contextLength, modelContextLength(model.config));
    return new TextModel(model, assets, tokenizerError, templateError, contextLength, assets ? [] : await eosIdsFromConfig(dir));
  }

  facts(): TextModelFacts {
    const chatMode = this.assets ? (this.assets.chat.hasTemplate && !this.templateError ? 'chat' : 'completion') : null;
    return {
      provider: this.model.provider,
      fallbackReason: this.model.fallbackReason ?? null,
      precision: this.model.precision,
      variant: this.model.variant,
      weightsBytes: this.model.weightBytes,
      contextLength: this.contextLength,
      mode: chatMode,
      note: chatMode === 'completion' && this.assets ? this.assets.chat.completionNote : null,
      tokenizerError: this.tokenizerError,
      templateError: this.templateError,
    };
  }

  /** Runs one request to the end (or to a cancel). Errors are DeepenErrors written for the user. */
  async run(req: TextRequest): Promise<TextAnswer> {
    const prompt = this.prompt(req.input, req.sampling.maxTokens);
    const controller = new AbortController();
    const cancelled = req.isCancelled ?? (() => false);
    const result = await generate(this.decoder, this.assets?.tokenizer ?? silentTokenizer, prompt.ids, {
      sampling: toSamplingSettings(req.sampling),
      maxNewTokens: Math.max(1, Math.min(req.sampling.maxTokens, this.contextLength - prompt.ids.length)),
      eosIds: prompt.eosIds,
      ignoreEos: req.ignoreEos,
      stopStrings: req.sampling.stop.filter((s) => s.length > 0),
      signal: controller.signal,
      onText: req.onText,
      // The loop looks at the signal between tokens; the flag is set from another thread.
      onToken: (id) => {
        req.onToken?.(id);
        if (cancelled()) controller.abort();
      },
    });
    return { ...result, mode: prompt.mode, note: prompt.note, droppedMessages: prompt.dropped };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }

  private prompt(input: TextRequestInput, maxTokens: number): { ids: number[]; eosIds: number[]; mode: 'chat' | 'completion' | null; note: string | null; dropped: number } {
    if (input.kind === 'ids') {
      const eosIds = this.assets ? this.assets.tokenizer.eosIds : this.configEosIds;
      return { ids: input.ids, eosIds, mode: null, note: null, dropped: 0 };
    }
    if (!this.assets) {
      throw new DeepenError(this.tokenizerError?.code ?? 'bad_file', this.tokenizerError?.message ?? `The model in ${this.model.dir} has no tokenizer.`, {
        modelDir: this.model.dir,
        ...this.tokenizerError?.details,
      });
    }
    if (input.kind === 'prompt') {
      return { ids: this.assets.tokenizer.encode(input.text), eosIds: this.assets.tokenizer.eosIds, mode: 'completion', note: null, dropped: 0 };
    }
    if (this.templateError) throw DeepenError.fromInfo(this.templateError);
    // A long conversation loses its oldest turns rather than failing: the
    // system prompt and the latest message always stay, and the answer keeps
    // room for a quarter of the context (or its max tokens, if less).
    const reserve = Math.max(1, Math.min(maxTokens, Math.floor(this.contextLength / 4)));
    let messages = input.messages;
    let dropped = 0;
    for (;;) {
      const built = buildChatPrompt(this.assets, messages);
      const shorter = this.contextLength - built.ids.length < reserve ? withoutOldestTurn(messages) : null;
      if (!shorter) return { ids: built.ids, eosIds: built.eosIds, mode: built.mode, note: built.note ?? null, dropped };
      dropped += messages.length - shorter.length;
      messages = shorter;
    }
  }
}

/** The messages without the first user turn and its answers; null when only the last user message is left. */
export function withoutOldestTurn<M extends { role: string }>(messages: readonly M[]): M[] | null {
  const first = messages.findIndex((m) => m.role !== 'system');
  if (first < 0) return null;
  let end = first + 1;
  while (end < messages.length && messages[end].role !== 'user') end++;
  if (end >= messages.length) return null;
  return [...messages.slice(0, first), ...messages.slice(end)];
}

export function toSamplingSettings(s: ChatSampling): SamplingSettings {
  return { temperature: s.temperature, topK: s.topK, topP: s.topP, minP: s.minP, repetitionPenalty: s.repetitionPenalty, seed: s.seed };
}

/** Without a tokenizer, EOS comes from generation_config.json or config.json. */
async function eosIdsFromConfig(dir: string): Promise<number[]> {
  for (const file of ['generation_config.json', 'config.json']) {
    try {
      const json = await readJsonObjectIfExists(path.join(dir, file), 'config');
      const v = json?.eos_token_id;
      const ids = (Array.isArray(v) ? v : [v]).filter((x): x is number => Number.isInteger(x));
      if (ids.length) return ids;
    } catch {
      // a broken config is reported by the checkpoint reader; EOS is then simply unknown
    }
  }
  return [];
}
