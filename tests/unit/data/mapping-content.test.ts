// Mapping rows to records (auto-detection of the common layouts, by-hand
// mappings, reasons for rows that do not fit), normalized hashes, splits and
// MinHash similarity.
import { describe, expect, it } from 'vitest';
import { applyMapping, detectMapping, MappingError } from '../../../src/native/data/import/mapping';
import { contentHash, normalizeForHash, splitFor, splitScore, toStored, fromStored } from '../../../src/native/data/datasets-content';
import { estimatedSimilarity, minhashSignature } from '../../../src/native/data/import/minhash';
import { toFtsQuery } from '../../../src/native/data/datasets-records';

describe('detectMapping', () => {
  it('recognizes text, Alpaca, prompt/response, OpenAI messages and ShareGPT conversations', () => {
    expect(detectMapping([{ text: 'x', id: 1 }])).toEqual({ kind: 'text', mapping: { kind: 'text', text: 'text' } });
    expect(detectMapping([{ instruction: 'i', input: '', output: 'o' }])).toEqual({
      kind: 'instruction',
      mapping: { kind: 'instruction', instruction: 'instruction', output: 'output', input: 'input' },
    });
    expect(detectMapping([{ prompt: 'p', response: 'r' }])?.mapping).toEqual({ kind: 'instruction', instruction: 'prompt', output: 'response' });
    expect(detectMapping([{ messages: [{ role: 'user', content: 'hi' }] }])?.mapping).toEqual({ kind: 'chat', messages: 'messages' });
    expect(detectMapping([{ conversations: [{ from: 'human', value: 'hi' }] }])?.mapping).toEqual({ kind: 'chat', messages: 'conversations', role: 'from', content: 'value' });
    expect(detectMapping([{ foo: 1, bar: [] }])).toBeNull();
    expect(detectMapping([{ only: 'a string' }])?.mapping).toEqual({ kind: 'text', text: 'only' });
  });

  it('honours an asked-for kind', () => {
    const rows = [{ instruction: 'i', output: 'o', text: 't' }];
    expect(detectMapping(rows, 'text')?.mapping).toEqual({ kind: 'text', text: 'text' });
    expect(detectMapping([{ instruction: 'i', output: 'o' }], 'chat')).toBeNull();
  });
});

describe('applyMapping', () => {
  it('maps ShareGPT roles to user/assistant and adds a system prompt field', () => {
    const c = applyMapping({ sys: 'be kind', conversations: [{ from: 'human', value: 'hi' }, { from: 'gpt', value: 'hello' }] }, { kind: 'chat', messages: 'conversations', role: 'from', content: 'value', system: 'sys' });
    expect(c).toEqual({ kind: 'chat', messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] });
  });

  it('reads dotted fields and says which field is missing or of the wrong type', () => {
    expect(applyMapping({ meta: { body: 'deep' } }, { kind: 'text', text: 'meta.body' })).toEqual({ kind: 'text', text: 'deep' });
    const reason = (row: Record<string, unknown>, m: Parameters<typeof applyMapping>[1]) => {
      try {
        applyMapping(row, m);
        return null;
      } catch (err) {
        expect(err).toBeInstanceOf(MappingError);
        return (err as Error).message;
      }
    };
    expect(reason({ instruction: 'x' }, { kind: 'instruction', instruction: 'instruction', output: 'output' })).toBe('the field "output" is missing');
    expect(reason({ text: { a: 1 } }, { kind: 'text', text: 'text' })).toBe('the field "text" is object, not text');
    expect(reason({ messages: 'hi' }, { kind: 'chat', messages: 'messages' })).toMatch(/a string, not a list of turns/);
    expect(reason({ messages: [{ role: 'user', content: 'only me' }] }, { kind: 'chat', messages: 'messages' })).toMatch(/no assistant turn/);
  });
});

describe('content hash and split', () => {
  it('treats whitespace and Unicode composition differences as the same content, case as different', () => {
    const h = (t: string) => contentHash({ kind: 'text', text: t }).toString('hex');
    expect(h('  Hello\n\tworld ')).toBe(h('Hello world'));
    expect(h('caf\u00e9')).toBe(h('cafe\u0301'));
    expect(h('Hello')).not.toBe(h('hello'));
    expect(normalizeForHash(' a  b ')).toBe('a b');
    expect(contentHash({ kind: 'instruction', instruction: 'a', output: 'b' }).equals(contentHash({ kind: 'text', text: 'a\n\nb' }))).toBe(false);
  });

  it('splits by hash and seed: stable, near the ratio, different per seed, and growing the ratio only moves records to eval', () => {
    const hashes = Array.from({ length: 20000 }, (_, i) => contentHash({ kind: 'text', text: `doc ${i}` }));
    const evalShare = (seed: number, ratio: number) => hashes.filter((h) => splitFor(h, seed, ratio) === 'eval').length / hashes.length;
    expect(evalShare(1, 0.1)).toBeGreaterThan(0.09);
    expect(evalShare(1, 0.1)).toBeLessThan(0.11);
    expect(hashes.map((h) => splitFor(h, 1, 0.1))).toEqual(hashes.map((h) => splitFor(h, 1, 0.1)));
    expect(hashes.filter((h) => splitFor(h, 1, 0.1) !== splitFor(h, 2, 0.1)).length).toBeGreaterThan(1000);
    expect(hashes.every((h) => splitFor(h, 7, 0.05) === 'train' || splitFor(h, 7, 0.2) === 'eval')).toBe(true);
    expect(splitFor(hashes[0], 1, 0)).toBe('train');
    expect(splitFor(hashes[0], 1, 1)).toBe('eval');
    expect(splitScore(hashes[0], 3)).toBeGreaterThanOrEqual(0);
  });

  it('stores instruction and chat records as plain text plus JSON and reads them back', () => {
    for (const c of [
      { kind: 'instruction' as const, system: 's', instruction: 'i', input: 'in', output: 'o' },
      { kind: 'chat' as const, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] },
      { kind: 'text' as const, text: 'plain' },
    ]) {
      const s = toStored(c);
      expect(fromStored(c.kind, s.text, s.data)).toEqual(c);
      expect(s.chars).toBe(s.text.length);
    }
    expect(toStored({ kind: 'instruction', instruction: 'i', output: 'o' }).text).toBe('i\n\no');
  });
});

describe('MinHash', () => {
  it('estimates Jaccard similarity of word shingles: near-identical texts score high, unrelated ones low', () => {
    const base = Array.from({ length: 200 }, (_, i) => `word${i % 50}x${i}`).join(' ');
    const edited = base.replace('word3x3', 'changed');
    const other = Array.from({ length: 200 }, (_, i) => `other${i}`).join(' ');
    expect(estimatedSimilarity(minhashSignature(base), minhashSignature(edited))).toBeGreaterThan(0.85);
    expect(estimatedSimilarity(minhashSignature(base), minhashSignature(other))).toBeLessThan(0.1);
  });
});

describe('toFtsQuery', () => {
  it('quotes what the user typed so that no input is an FTS syntax error', () => {
    expect(toFtsQuery('hello world')).toBe('"hello" "world"');
    expect(toFtsQuery('"exact phrase" pre*')).toBe('"exact phrase" "pre"*');
    expect(toFtsQuery('a"b OR NOT (x)')).toBe('"a""b" "OR" "NOT" "(x)"');
    expect(toFtsQuery('*** ---')).toBeNull();
  });
});
