import { beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../../src/native/generate/tokenizer';
import { tokenizerDirs, tokenizerReference, type ReferenceCase } from './fixture-paths';

// The ids and texts that transformers 5.17 (Rust `tokenizers`) produced for 23
// tricky strings, for three real vocabularies. Must match exactly.

for (const [name, dir] of Object.entries(tokenizerDirs)) {
  describe(`tokenizer reference: ${name}`, () => {
    let tok: TextTokenizer;
    beforeAll(async () => {
      tok = await TextTokenizer.fromDir(dir);
    });
    const cases = tokenizerReference[name] as ReferenceCase[];
    it('has 23 reference strings', () => expect(cases).toHaveLength(23));
    for (const c of cases) {
      it(`${JSON.stringify(c.text)}`, () => {
        expect(tok.encode(c.text, { addSpecialTokens: false })).toEqual(c.ids);
        expect(tok.encode(c.text, { addSpecialTokens: true })).toEqual(c.ids_with_special);
        expect(tok.decode(c.ids)).toBe(c.decoded);
      });
    }
  });
}
