import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { DeepenError } from '../../shared/errors';
import { readJsonObject, readJsonObjectIfExists, type JsonObject } from './model-files';
import { StreamDecoder } from './stream-decoder';

// A model's tokenizer: `tokenizer.json` run by @huggingface/tokenizers, with
// the settings that live in the other files applied the way transformers 5
// applies them (the reference ids in ../shared/fixtures/hf/tokenizer_reference.json
// come from transformers 5.17 over the Rust `tokenizers` library):
//
// - BOS/EOS: `add_bos_token` / `add_eos_token` in tokenizer_config.json, when
//   present, override what tokenizer.json's post-processor adds (transformers
//   rebuilds the post-processor from them); absent, the post-processor rules.
// - Clean-up of spaces before punctuation: transformers 5 skips it for every
//   BPE model even when `clean_up_tokenization_spaces` is true (it corrupts
//   "a ." into "a."), unless
//   `clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output`
//   is set; and a config without the key means false. @huggingface/tokenizers
//   applies the flag as given and defaults it to TRUE, so Llama 3's config
//   (which sets it) would decode "Hello world ." as "Hello world." — we pass
//   the decision explicitly on every decode.
// - Ids the vocabulary does not have (models pad their embedding matrix past
//   the tokenizer, e.g. Qwen: 151936 rows, 151669 tokens) decode to nothing,
//   as in Rust; the JS library would substitute the unk token or `undefined`.
// - The library throws on an empty id list; decode([]) is ''.

export interface EncodeOptions {
  /** BOS/EOS etc. as the tokenizer adds them (default true). Chat templates already contain them: pass false. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** Overrides the clean-up decision described above. */
  cleanUpSpaces?: boolean;
}

/** Tokens that end a turn in common chat formats; generation stops on them in chat mode even when no config lists them. */
const END_OF_TURN_MARKERS = ['<|eot_id|>', '<|eom_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>'];

const TEMPLATE_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

export interface TokenizerSource {
  /** Parsed tokenizer.json. */
  tokenizerJson: JsonObject;
  tokenizerConfig?: JsonObject | null;
  generationConfig?: JsonObject | null;
  /** config.json, for eos_token_id/bos_token_id. */
  modelConfig?: JsonObject | null;
  /** Where it came from, for messages. */
  dir?: string;
}

export class TextTokenizer {
  readonly dir: string;
  readonly config: JsonObject;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly bosId: number | null;
  /** Ids that end generation: generation_config.json, then config.json, then tokenizer_config.json's eos_token. */
  readonly eosIds: number[];
  /** Special tokens of this vocabulary that mark the end of a chat turn (see END_OF_TURN_MARKERS). */
  readonly endOfTurnIds: number[];
  /** Number of ids the tokenizer knows (vocabulary plus added tokens). */
  readonly vocabSize: number;
  /** Token strings a chat template receives (bos_token, eos_token, ...), as transformers passes them. */
  readonly templateTokens: Record<string, string | string[]>;

  private readonly hf: HfTokenizer;
  private readonly specialIds: Set<number>;
  private readonly cleanUpByDefault: boolean;
  /** Special ids to put around encoded text when the config's add_bos/add_eos override the post-processor; null = use the library's output. */
  private readonly specialOverride: { prefix: number[]; suffix: number[] } | null;

  private constructor(src: TokenizerSource) {
    this.dir = src.dir ?? '(in memory)';
    const file = src.dir ? path.join(src.dir, 'tokenizer.json') : 'tokenizer.json';
    const config = src.tokenizerConfig ?? {};
    this.config = config;
    const model = src.tokenizerJson.model as JsonObject | undefined;
    if (!model || typeof model !== 'object' || typeof model.type !== 'string' && !('vocab' in model)) {
      throw new DeepenError('bad_file', `${file} has no tokenizer model (the "model" entry is missing). Download tokenizer.json again from the model's repository.`, { file });
    }
    try {
      this.hf = new HfTokenizer(src.tokenizerJson, { ...config, additional_special_tokens: tokenStrings(config.additional_special_tokens) });
    } catch (err) {
      throw new DeepenError(
        'unsupported',
        `Could not build the tokenizer from ${file}: ${(err as Error).message}. The file may use a component this version of Deepen does not support, or be damaged; download it again from the model's repository.`,
        { file },
      );
    }

    this.specialIds = new Set();
    for (const [id, token] of this.hf.get_added_tokens_decoder()) if (token.special) this.specialIds.add(id);
    this.vocabSize = this.hf.get_vocab(true).size;

    this.bosToken = tokenString(config.bos_token);
    this.eosToken = tokenString(config.eos_token);
    // The tokenizer's BOS only, as transformers' bos_token_id: config.json's
    // bos_token_id describes pretraining (Qwen names <|endoftext|> there) and
    // must not make us add a token the tokenizer never adds.
    this.bosId = this.bosToken !== null ? this.tokenToId(this.bosToken) : null;
    this.eosIds = collectEosIds(src, this.eosToken !== null ? this.tokenToId(this.eosToken) : null);
    this.endOfTurnIds = END_OF_TURN_MARKERS.map((m) => this.tokenToId(m)).filter((id): id is number => id !== null && this.specialIds.has(id));

    this.templateTokens = {};
    for (const key of TEMPLATE_TOKEN_KEYS) {
      const s = tokenString(config[key]);
      if (s !== null) this.templateTokens[key] = s;
    }
    this.templateTokens.additional_special_tokens = tokenStrings(config.additional_special_tokens);

    const cleanUp = config.clean_up_tokenization_spaces === true;
    const forceForBpe = config.clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output === true;
    this.cleanUpByDefault = cleanUp && (model.type !== 'BPE' || forceForBpe);
    this.specialOverride = this.planSpecialOverride();
  }

  /** Loads tokenizer.json (required) and the optional config files from a model folder. */
  static async fromDir(dir: string): Promise<TextTokenizer> {
    const tokenizerJson = await readJsonObject(
      path.join(dir, 'tokenizer.json'),
      'tokenizer file',
      `Deepen needs the model's tokenizer.json to encode and decode text: copy it from the model's Hugging Face repository into ${dir}. ` +
        `A model that ships only tokenizer.model (SentencePiece) can be converted once with transformers: AutoTokenizer.from_pretrained(folder).save_pretrained(folder).`,
    );
    const [tokenizerConfig, generationConfig, modelConfig] = await Promise.all([
      readJsonObjectIfExists(path.join(dir, 'tokenizer_config.json'), 'tokenizer config'),
      readJsonObjectIfExists(path.join(dir, 'generation_config.json'), 'generation config'),
      readJsonObjectIfExists(path.join(dir, 'config.json'), 'model config'),
    ]);
    return new TextTokenizer({ tokenizerJson, tokenizerConfig, generationConfig, modelConfig, dir });
  }

  static fromObjects(src: TokenizerSource): TextTokenizer {
    return new TextTokenizer(src);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addSpecial = opts.addSpecialTokens ?? true;
    if (addSpecial && this.specialOverride) {
      const { prefix, suffix } = this.specialOverride;
      return [...prefix, ...this.hf.encode(text, { add_special_tokens: false }).ids, ...suffix];
    }
    return this.hf.encode(text, { add_special_tokens: addSpecial }).ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const known = ids.filter((id) => this.hf.id_to_token(id) !== undefined);
    if (known.length === 0) return '';
    return this.hf.decode(known, {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: opts.cleanUpSpaces ?? this.cleanUpByDefault,
    });
  }

  /**
   * A decoder for streaming generated ids as text. Clean-up is off: it can
   * remove a space already shown once the next token arrives, and
   * transformers 5 skips it for BPE models (all LLaMA-family ones) anyway.
   */
  streamDecoder(opts: { skipSpecialTokens?: boolean } = {}): StreamDecoder {
    const skipSpecialTokens = opts.skipSpecialTokens ?? true;
    return new StreamDecoder((ids) => this.decode(ids, { skipSpecialTokens, cleanUpSpaces: false }));
  }

  tokenToId(token: string): number | null {
    return this.hf.token_to_id(token) ?? null;
  }

  idToToken(id: number): string | null {
    return this.hf.id_to_token(id) ?? null;
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /**
   * Compares what the post-processor adds around a text with what
   * add_bos_token / add_eos_token ask for. Probing with a plain word finds the
   * post-processor's prefix and suffix without parsing its configuration.
   */
  private planSpecialOverride(): { prefix: number[]; suffix: number[] } | null {
    const addBos = this.config.add_bos_token;
    const addEos = this.config.add_eos_token;
    if (typeof addBos !== 'boolean' && typeof addEos !== 'boolean') return null;
    const bare = this.hf.encode('a', { add_special_tokens: false }).ids;
    const withSpecial = this.hf.encode('a', { add_special_tokens: true }).ids;
    const at = indexOfSequence(withSpecial, bare);
    if (at < 0) return null; // a post-processor that rewrites the text itself: leave it alone
    let prefix = withSpecial.slice(0, at);
    let suffix = withSpecial.slice(at + bare.length);
    const eosId = this.eosToken !== null ? this.tokenToId(this.eosToken) : null;
    if (addBos === true && this.bosId !== null && !prefix.includes(this.bosId)) prefix = [this.bosId, ...prefix];
    if (addBos === false && this.bosId !== null) prefix = prefix.filter((id) => id !== this.bosId);
    if (addEos === true && eosId !== null && !suffix.includes(eosId)) suffix = [...suffix, eosId];
    if (addEos === false && eosId !== null) suffix = suffix.filter((id) => id !== eosId);
    const same = prefix.length + suffix.length + bare.length === withSpecial.length && at === prefix.length;
    return same ? null : { prefix, suffix };
  }
}

/** A special-token entry of tokenizer_config.json: a string, an AddedToken object `{content}`, or null. */
function tokenString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return null;
}

function tokenStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(tokenString).filter((s): s is string => s !== null) : [];
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

function idList(value: unknown): number[] {
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v));
  const n = numberOrNull(value);
  return n === null ? [] : [n];
}

function collectEosIds(src: TokenizerSource, tokenizerEos: number | null): number[] {
  const textConfig = src.modelConfig?.text_config as JsonObject | undefined;
  const ids = [
    ...idList(src.generationConfig?.eos_token_id),
    ...idList(src.modelConfig?.eos_token_id),
    ...idList(textConfig?.eos_token_id),
    ...(tokenizerEos !== null ? [tokenizerEos] : []),
  ];
  return [...new Set(ids)];
}

function indexOfSequence(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
