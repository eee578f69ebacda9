import { beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../../src/native/generate/tokenizer';
import { tokenizerDirs, tokenizerReference, type ReferenceCase } from './fixture-paths';

// Streaming every reference string token by token through each real
// tokenizer: no delta may hold a replacement character, and the deltas must
// add up to what decoding all ids at once gives.

for (const [name, dir] of Object.entries(tokenizerDirs)) {
  describe(`streaming decode: ${name}`, () => {
    let tok: TextTokenizer;
    beforeAll(async () => {
      tok = await TextTokenizer.fromDir(dir);
    });

    it('every reference string streams to its full decode, with no broken characters mid-stream', () => {
      for (const c of tokenizerReference[name] as ReferenceCase[]) {
        const ids = c.ids_with_special;
        const stream = tok.streamDecoder();
        const deltas = ids.map((id) => stream.push(id));
        deltas.push(stream.flush());
        for (const d of deltas) expect(d, `${JSON.stringify(c.text)}: ${JSON.stringify(deltas)}`).not.toContain('\uFFFD');
        expect(deltas.join('')).toBe(tok.decode(ids, { skipSpecialTokens: true }));
      }
    });

    it('a character split over several tokens appears whole, in one delta', () => {
      const ids = tok.encode('emoji 🦙🔥👍🏽', { addSpecialTokens: false });
      const stream = tok.streamDecoder();
      const deltas = ids.map((id) => stream.push(id)).filter((d) => d !== '');
      expect(ids.length).toBeGreaterThan(deltas.length); // some tokens carried only part of a character
      expect(deltas.join('')).toBe('emoji 🦙🔥👍🏽');
      for (const ch of ['🦙', '🔥']) expect(deltas.some((d) => d.includes(ch))).toBe(true);
    });
  });
}
