// A model's tokenizer and chat template, as the dataset tools use them:
// loaded from the model folder (cached, they take a while to parse) and
// identified by a hash of tokenizer.json and the template, so token counts are
// shared by every model with the same tokenizer and template.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import type { ChatTemplateLike, TokenEncoder } from '../data/record-render';

export interface DatasetTokenizer {
  tokenizerId: string;
  label: string;
  modelDir: string;
  encoder: TokenEncoder;
  template: ChatTemplateLike;
  eosId: number | null;
  /** the token's text as shown in previews */
  tokenText(id: number): string;
}

const cache = new Map<string, Promise<DatasetTokenizer>>();

export function loadDatasetTokenizer(modelDir: string): Promise<DatasetTokenizer> {
  if (typeof modelDir !== 'string' || !modelDir.trim()) return Promise.reject(new DeepenError('bad_request', 'Pick a model whose tokenizer to use.'));
  const dir = path.resolve(modelDir);
  let p = cache.get(dir);
  if (!p) {
    p = load(dir);
    cache.set(dir, p);
    p.catch(() => cache.delete(dir));
    // keep the two most recent: tokenizers are tens of MB in memory
    if (cache.size > 2) cache.delete(cache.keys().next().value!);
  }
  return p;
}

async function load(dir: string): Promise<DatasetTokenizer> {
  const { loadTextModelAssets } = await import('../generate/prompt');
  const { tokenizer, chat } = await loadTextModelAssets(dir);
  const hash = createHash('sha1');
  hash.update(await fs.readFile(path.join(dir, 'tokenizer.json')));
  hash.update('\u0000');
  hash.update(chat.source?.text ?? '(no template)');
  return {
    tokenizerId: hash.digest('hex').slice(0, 16),
    label: path.basename(dir),
    modelDir: dir,
    encoder: { encode: (text, opts) => tokenizer.encode(text, opts) },
    template: chat,
    eosId: tokenizer.eosIds[0] ?? null,
    tokenText: (id) => tokenDisplayText(tokenizer.idToToken(id), () => tokenizer.decode([id], { skipSpecialTokens: false, cleanUpSpaces: false })),
  };
}

/**
 * A token as text for previews, with its leading space: decoding one
 * SentencePiece token alone drops the space its "▁" stands for, so the vocabulary
 * string is read instead, with the markers of SentencePiece (▁, <0x0A>) and
 * byte-level BPE (Ġ, Ċ, ĉ) turned back into what they mean. Other byte-level
 * pieces (parts of multi-byte characters) are decoded.
 */
export function tokenDisplayText(raw: string | null, decode: () => string): string {
  if (raw === null) return decode();
  const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(raw);
  if (byte) {
    const b = parseInt(byte[1], 16);
    return b < 0x80 ? String.fromCharCode(b) : decode();
  }
  if (raw.includes('\u2581')) return raw.replace(/\u2581/g, ' ');
  const mapped = raw.replace(/\u0120/g, ' ').replace(/\u010a/g, '\n').replace(/\u0109/g, '\t');
  // anything else from the byte-level alphabet (U+0080..U+0143) is part of a multi-byte character
  return /[\u0080-\u0143]/.test(mapped) ? decode() : mapped;
}
