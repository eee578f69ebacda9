// Records as stored: the plain text (search, lengths, table), the structured
// JSON of instruction/chat records, the normalized-content hash and the
// split derived from it. Pure functions: no SQL here.
import type { DatasetKind, DatasetSplit, RecordContent } from '../../shared/contract/datasets';
import { DeepenError } from '../../shared/errors';

export interface StoredRecord {
  text: string;
  /** JSON of instruction/chat content; null for text records */
  data: string | null;
  hash: Buffer;
  chars: number;
}

/** The record's plain text: what search indexes and what lengths measure. */
export function plainText(content: RecordContent): string {
  switch (content.kind) {
    case 'text':
      return content.text;
    case 'instruction':
      return [content.system, content.instruction, content.input, content.output].filter((s) => s !== undefined && s !== '').join('\n\n');
    case 'chat':
      return content.messages.map((m) => m.content).join('\n\n');
  }
}

/**
 * Normalization for duplicate detection: Unicode NFC, whitespace runs as one
 * space, trimmed. Case and punctuation are kept: records that differ only in
 * those are different training data. (The hash below applies the same rules
 * on the fly; this spelled-out form documents them and serves the tests.)
 */
export function normalizeForHash(s: string): string {
  return nfc(s).replace(/\s+/g, ' ').trim();
}

// Most text is already NFC and pure ASCII text always is: skip normalize() there, it is costly on large corpora.
// eslint-disable-next-line no-control-regex
const nfc = (s: string) => (/[^\x00-\x7f]/.test(s) ? s.normalize('NFC') : s);

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;

/**
 * A 64-bit hash of normalized content, in one pass without building the
 * normalized string: two 32-bit multiply-xorshift lanes (cyrb53's
 * construction) over the UTF-16 code units, whitespace runs fed as one space.
 * Not cryptographic; 64 bits make an accidental collision among a billion
 * records unlikely (about 3%), and duplicates only need to be found, not proven.
 */
class Hash64 {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;

  private unit(c: number): void {
    this.h1 = Math.imul(this.h1 ^ c, 2654435761);
    this.h2 = Math.imul(this.h2 ^ c, 1597334677);
  }

  /** Feeds a text with whitespace normalized (leading/trailing spaces of the part dropped). */
  text(s: string): this {
    // The hot loop of an import (every character of every record): the lanes
    // live in locals, and printable ASCII (most text) takes the first branch
    // without the whitespace test. Same result as feeding unit() per character.
    // NFC is looked for at the first non-ASCII character, not in a separate pass.
    let t = s;
    let checkedNfc = false;
    let h1 = this.h1;
    let h2 = this.h2;
    let started = false;
    let pendingSpace = false;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c >= 0x80 && !checkedNfc) {
        checkedNfc = true;
        const n = t.normalize('NFC');
        if (n !== t) {
          // start over on the normalized text (a combining mark can merge with the ASCII letter before it)
          t = n;
          h1 = this.h1;
          h2 = this.h2;
          started = false;
          pendingSpace = false;
          i = -1;
          continue;
        }
      }
      if (!(c > 32 && c < 0xa0) && isSpace(c)) {
        pendingSpace = started;
        continue;
      }
      if (pendingSpace) {
        h1 = Math.imul(h1 ^ 32, 2654435761);
        h2 = Math.imul(h2 ^ 32, 1597334677);
        pendingSpace = false;
      }
      started = true;
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }

  /** Feeds a separator that cannot occur in text (a lone code unit above 0xffff is impossible). */
  sep(tag: number): this {
    this.unit(0x10000 + tag);
    return this;
  }

  digest(): Buffer {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32LE(h1 >>> 0, 0);
    out.writeUInt32LE(h2 >>> 0, 4);
    return out;
  }
}

/** 8 bytes identifying the normalized content (structure included, so an instruction and a chat never collide). */
export function contentHash(content: RecordContent): Buffer {
  const h = new Hash64();
  switch (content.kind) {
    case 'text':
      h.sep(1).text(content.text);
      break;
    case 'instruction':
      for (const part of [content.system ?? '', content.instruction, content.input ?? '', content.output]) h.sep(2).text(part);
      break;
    case 'chat':
      for (const m of content.messages) h.sep(3).text(m.role).sep(4).text(m.content);
      break;
  }
  return h.digest();
}

export function toStored(content: RecordContent): StoredRecord {
  const text = plainText(content);
  let data: string | null = null;
  if (content.kind === 'instruction') {
    const { kind: _k, ...rest } = content;
    data = JSON.stringify(rest);
  } else if (content.kind === 'chat') {
    data = JSON.stringify({ messages: content.messages });
  }
  return { text, data, hash: contentHash(content), chars: text.length };
}

export function fromStored(kind: DatasetKind, text: string, data: string | null): RecordContent {
  if (kind === 'text' || data === null) return { kind: 'text', text };
  const parsed = JSON.parse(data) as Record<string, unknown>;
  if (kind === 'instruction') {
    return {
      kind: 'instruction',
      instruction: String(parsed.instruction ?? ''),
      output: String(parsed.output ?? ''),
      ...(typeof parsed.input === 'string' ? { input: parsed.input } : {}),
      ...(typeof parsed.system === 'string' ? { system: parsed.system } : {}),
    };
  }
  return { kind: 'chat', messages: (parsed.messages as { role: string; content: string }[]) ?? [] };
}

/**
 * Train or eval from the content hash and the seed: a fixed function of both,
 * so re-importing the same content with the same seed gives the same split,
 * and changing the ratio moves only the records near the threshold.
 */
export function splitFor(hash: Uint8Array, seed: number, evalRatio: number): DatasetSplit {
  if (evalRatio <= 0) return 'train';
  if (evalRatio >= 1) return 'eval';
  return splitScore(hash, seed) < evalRatio ? 'eval' : 'train';
}

/** A uniform number in [0, 1) from the hash and seed (murmur3's 32-bit finalizer over mixed words). */
export function splitScore(hash: Uint8Array, seed: number): number {
  let h = (seed | 0) ^ 0x9e3779b9;
  for (let i = 0; i + 4 <= 8; i += 4) {
    const w = hash[i] | (hash[i + 1] << 8) | (hash[i + 2] << 16) | (hash[i + 3] << 24);
    h = Math.imul(h ^ w, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4294967296;
}

/** Checks content sent by a client (record edits) and says what is wrong. */
export function validateContent(kind: DatasetKind, content: unknown): RecordContent {
  const c = content as RecordContent | undefined;
  if (!c || typeof c !== 'object' || c.kind !== kind) {
    throw new DeepenError('bad_request', `The record content must be of kind "${kind}", the dataset's kind.`);
  }
  const str = (v: unknown, what: string, optional = false) => {
    if (optional && (v === undefined || v === null)) return;
    if (typeof v !== 'string') throw new DeepenError('bad_request', `The record's ${what} must be text.`);
  };
  if (c.kind === 'text') str(c.text, 'text');
  else if (c.kind === 'instruction') {
    str(c.instruction, 'instruction');
    str(c.output, 'output');
    str(c.input, 'input', true);
    str(c.system, 'system prompt', true);
  } else {
    if (!Array.isArray(c.messages) || !c.messages.length) throw new DeepenError('bad_request', 'A chat record needs at least one message.');
    c.messages.forEach((m, i) => {
      str(m?.role, `message ${i + 1} role`);
      str(m?.content, `message ${i + 1} content`);
    });
  }
  return c;
}
