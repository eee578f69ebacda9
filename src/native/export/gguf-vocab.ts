// The tokenizer part of a GGUF file, from Hugging Face's tokenizer.json:
// - SentencePiece-style BPE (Llama 2, Mistral: ▁ pieces, byte fallback) →
//   llama.cpp's "llama" tokenizer, which merges by piece score (−id keeps the
//   vocabulary's merge order);
// - byte-level BPE (Llama 3, Qwen) → "gpt2" with the merge list.
// A model without a tokenizer gets a placeholder vocabulary so the file still
// loads (token ids in, token ids out).

import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import type { ModelConfig } from '../checkpoint/hf-config';
import { kv, type KvValue } from './gguf-format';

// llama.cpp token types
const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const USER_DEFINED = 4;
const UNUSED = 5;
const BYTE = 6;

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean; unk_token?: string | null };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  pre_tokenizer?: unknown;
  decoder?: unknown;
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DeepenError('bad_file', `${file} is not valid JSON (${(err as Error).message}). Fix or remove it before exporting.`, { file });
  }
}

const mentions = (node: unknown, type: string): boolean => JSON.stringify(node ?? null).includes(`"type":"${type}"`);

/** tokenizer.ggml.* metadata for the model in `dir`. */
export async function vocabMetadata(dir: string, config: ModelConfig): Promise<Record<string, KvValue>> {
  const tok = await readJson<TokenizerJson>(path.join(dir, 'tokenizer.json'));
  const tc = (await readJson<Record<string, unknown>>(path.join(dir, 'tokenizer_config.json'))) ?? {};
  const V = config.vocabSize;
  const meta: Record<string, KvValue> = {};
  if (!tok?.model?.vocab) {
    Object.assign(meta, placeholderVocab(V));
  } else {
    if (tok.model.type !== 'BPE') {
      throw new DeepenError('unsupported', `GGUF export handles BPE tokenizers; this tokenizer.json is ${tok.model.type}.`, { dir });
    }
    const tokens: string[] = new Array(V).fill('');
    const types: number[] = new Array(V).fill(UNUSED);
    for (const [piece, id] of Object.entries(tok.model.vocab)) {
      if (id >= V) continue;
      tokens[id] = piece;
      types[id] = /^<0x[0-9A-F]{2}>$/.test(piece) ? BYTE : NORMAL;
    }
    for (const t of tok.added_tokens ?? []) {
      if (t.id >= V) continue;
      tokens[t.id] = t.content;
      types[t.id] = t.special ? CONTROL : USER_DEFINED;
    }
    if (tok.model.unk_token && tok.model.vocab[tok.model.unk_token] !== undefined) types[tok.model.vocab[tok.model.unk_token]] = UNKNOWN;
    // Ids the tokenizer doesn't use (padded embeddings) still need a unique name.
    tokens.forEach((t, i) => {
      if (!t) tokens[i] = `[PAD${i}]`;
    });
    const byteLevel = mentions(tok.pre_tokenizer, 'ByteLevel') || mentions(tok.decoder, 'ByteLevel');
    meta['tokenizer.ggml.tokens'] = kv.strings(tokens);
    meta['tokenizer.ggml.token_type'] = kv.i32s(types);
    if (byteLevel) {
      meta['tokenizer.ggml.model'] = kv.string('gpt2');
      meta['tokenizer.ggml.pre'] = kv.string(config.modelType === 'qwen2' || config.modelType === 'qwen3' ? 'qwen2' : V >= 128000 ? 'llama-bpe' : 'default');
      meta['tokenizer.ggml.merges'] = kv.strings((tok.model.merges ?? []).map((m) => (typeof m === 'string' ? m : m.join(' '))));
    } else {
      meta['tokenizer.ggml.model'] = kv.string('llama');
      meta['tokenizer.ggml.scores'] = kv.f32s(tokens.map((_, i) => -i));
    }
  }
  const bos = config.bosTokenId;
  const eos = config.eosTokenIds[0];
  if (bos !== null && bos < V) meta['tokenizer.ggml.bos_token_id'] = kv.u32(bos);
  if (eos !== undefined && eos < V) meta['tokenizer.ggml.eos_token_id'] = kv.u32(eos);
  if (config.padTokenId !== null && config.padTokenId < V) meta['tokenizer.ggml.padding_token_id'] = kv.u32(config.padTokenId);
  if (typeof tc.add_bos_token === 'boolean') meta['tokenizer.ggml.add_bos_token'] = kv.bool(tc.add_bos_token);
  if (typeof tc.chat_template === 'string') meta['tokenizer.chat_template'] = kv.string(tc.chat_template);
  return meta;
}

/** `<unk> <s> </s>`, the 256 byte pieces, then numbered pieces: loads in llama.cpp, decodes to placeholders. */
function placeholderVocab(V: number): Record<string, KvValue> {
  const tokens: string[] = [];
  const types: number[] = [];
  const push = (t: string, type: number) => {
    if (tokens.length < V) {
      tokens.push(t);
      types.push(type);
    }
  };
  push('<unk>', UNKNOWN);
  push('<s>', CONTROL);
  push('</s>', CONTROL);
  for (let b = 0; b < 256; b++) push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, BYTE);
  while (tokens.length < V) push(`▁t${tokens.length}`, NORMAL);
  return {
    'tokenizer.ggml.model': kv.string('llama'),
    'tokenizer.ggml.tokens': kv.strings(tokens),
    'tokenizer.ggml.scores': kv.f32s(tokens.map((_, i) => -i)),
    'tokenizer.ggml.token_type': kv.i32s(types),
  };
}
