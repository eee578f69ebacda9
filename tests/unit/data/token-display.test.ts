// How tokens read in the "as the model sees it" preview, and the exact
// duplicate set the importer uses instead of a database index.
import { describe, expect, it } from 'vitest';
import { tokenDisplayText } from '../../../src/native/host/dataset-tokenizer';
import { HashSet64 } from '../../../src/native/data/import/hashes';
import { contentHash } from '../../../src/native/data/datasets-content';

describe('tokenDisplayText', () => {
  const never = () => 'DECODED';
  it('keeps the space SentencePiece and byte-level BPE mark, and shows byte tokens', () => {
    expect(tokenDisplayText('\u2581item', never)).toBe(' item');
    expect(tokenDisplayText('\u0120world', never)).toBe(' world');
    expect(tokenDisplayText('\u010a', never)).toBe('\n');
    expect(tokenDisplayText('<0x0A>', never)).toBe('\n');
    expect(tokenDisplayText('</s>', never)).toBe('</s>');
  });
  it('decodes pieces of multi-byte characters and unknown ids', () => {
    expect(tokenDisplayText('\u00c3\u00a9', never)).toBe('DECODED');
    expect(tokenDisplayText('<0xC3>', never)).toBe('DECODED');
    expect(tokenDisplayText(null, never)).toBe('DECODED');
  });
});

describe('HashSet64', () => {
  it('finds exactly the hashes added, across growth', () => {
    const set = new HashSet64();
    const hashes = Array.from({ length: 200_000 }, (_, i) => contentHash({ kind: 'text', text: `t${i}` }));
    hashes.slice(0, 100_000).forEach((h) => set.add(h));
    set.add(hashes[0]);
    expect(set.size).toBe(100_000);
    expect(hashes.slice(0, 100_000).every((h) => set.has(h))).toBe(true);
    expect(hashes.slice(100_000).some((h) => set.has(h))).toBe(false);
  });
});
