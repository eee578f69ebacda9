import { describe, expect, it } from 'vitest';
import { StopStringFilter } from '../../../src/native/generate/stopping';
import { StreamDecoder } from '../../../src/native/generate/stream-decoder';

// A toy byte-level vocabulary: id = one UTF-8 byte (0-255), 256 = "hello".
// Decoding turns ids into bytes and bytes into text, with U+FFFD for an
// incomplete sequence, as real byte-level tokenizers do.
const toyDecode = (ids: number[]): string => {
  const bytes: number[] = [];
  for (const id of ids) bytes.push(...(id === 256 ? [...Buffer.from('hello')] : [id]));
  return new TextDecoder().decode(Uint8Array.from(bytes));
};
const idsOf = (s: string): number[] => [...Buffer.from(s, 'utf8')];

describe('StreamDecoder', () => {
  it('emits multi-byte characters only once complete, never U+FFFD mid-stream', () => {
    const text = 'a🦙b ünï 你好 👍🏽';
    const d = new StreamDecoder(toyDecode);
    const deltas = idsOf(text).map((id) => d.push(id));
    for (const delta of deltas) expect(delta).not.toContain('\uFFFD');
    expect(deltas.join('') + d.flush()).toBe(text);
    expect(d.text).toBe(text);
    // The four bytes of the llama arrive as three empty deltas, then the character.
    const d2 = new StreamDecoder(toyDecode);
    expect(idsOf('a🦙').map((id) => d2.push(id))).toEqual(['a', '', '', '', '🦙']);
  });

  it('lets a really broken byte sequence through at the end (flush), not before', () => {
    const d = new StreamDecoder(toyDecode);
    expect(d.push(0x61)).toBe('a');
    expect(d.push(0xf0)).toBe('');
    expect(d.push(0x9f)).toBe('');
    expect(d.flush()).toBe('\uFFFD');
  });

  it('a broken byte followed by normal text is emitted with the text', () => {
    const d = new StreamDecoder(toyDecode);
    d.push(0xf0);
    expect(d.push(256)).toBe('\uFFFDhello');
  });

  it('feeds a stop filter so stop strings spanning multi-byte tokens are found', () => {
    const d = new StreamDecoder(toyDecode);
    const f = new StopStringFilter(['🔥!']);
    let shown = '';
    let stopped = false;
    for (const id of idsOf('hot 🔥! more')) {
      const r = f.push(d.push(id));
      shown += r.text;
      if (r.stopped) {
        stopped = true;
        break;
      }
    }
    expect(stopped).toBe(true);
    expect(shown).toBe('hot ');
  });
});
