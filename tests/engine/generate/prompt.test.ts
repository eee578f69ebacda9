import { describe, expect, it } from 'vitest';
import { buildChatPrompt, loadTextModelAssets } from '../../../src/native/generate/prompt';
import { tokenizerDirs, tokenizerReference, type ReferenceChat } from './fixture-paths';

describe('from a conversation to prompt ids', () => {
  it('chat mode: the rendered template, encoded without extra specials; end-of-turn markers end the answer', async () => {
    const assets = await loadTextModelAssets(tokenizerDirs.llama3);
    const ref = tokenizerReference['llama3.chat'] as ReferenceChat;
    const p = buildChatPrompt(assets, ref.messages);
    expect(p.mode).toBe('chat');
    expect(p.text).toBe(ref.rendered_with_generation_prompt);
    expect(p.ids[0]).toBe(128000); // <|begin_of_text|> once, from the template
    expect(p.ids.filter((id) => id === 128000)).toHaveLength(1);
    expect(p.ids.at(-1)).toBe(271); // "\n\n" after the assistant header
    expect(p.eosIds).toEqual(expect.arrayContaining([128001, 128009]));
  });

  it('completion mode for a model without a template: BOS from the tokenizer, and the note', async () => {
    const assets = await loadTextModelAssets(tokenizerDirs.llama2);
    const p = buildChatPrompt(assets, [{ role: 'user', content: 'Hello world!' }]);
    expect(p.mode).toBe('completion');
    expect(p.ids).toEqual([1, 22557, 1526, 28808]);
    expect(p.note).toMatch(/plain completion mode/);
    expect(p.eosIds).toEqual([2]);
  });
});
