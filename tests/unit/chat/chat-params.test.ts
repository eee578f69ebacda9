// The small pure parts of chat: the memory estimate and its refusal text,
// sampling settings from the UI/API (filled, checked, named in errors), what
// each model sees of a conversation in compare mode, and prompt-id parsing.
import { describe, expect, it } from 'vitest';
import { defaultChatSampling, presetSampling } from '../../../src/shared/contract/chat';
import { DeepenError } from '../../../src/shared/errors';
import { chatContextLength, estimateChatMemory, parseBytes } from '../../../src/native/host/chat/memory';
import { normalizeSampling, storedSampling } from '../../../src/native/host/chat/sampling-params';
import { buildHistory } from '../../../src/native/host/chat/history';
import { parsePromptIds } from '../../../src/native/cli/commands/generate';
import { withoutOldestTurn } from '../../../src/native/host/chat/text-model';
import type { Message } from '../../../src/native/data/conversations';

// LLaMA-2-7B's shape: 32 layers, 4096 hidden, 32 heads (no GQA), 11008 MLP.
const llama7b = { paramsTotal: 6_738_415_616, layers: 32, hiddenSize: 4096, intermediateSize: 11008, heads: 32, kvHeads: 32, headDim: 128, vocabSize: 32000, maxPositionEmbeddings: 4096 };

describe('chat memory estimate', () => {
  it('adds weights at the precision, the KV cache for the context and working memory', () => {
    const e = estimateChatMemory({ modelId: 'm', name: 'llama-7b', shape: llama7b, precision: 'fp16', contextLength: 2048, freeBytes: 64 * 2 ** 30 });
    expect(e.weightsBytes).toBe(6_738_415_616 * 2 + (9 * 32 + 3) * 65536);
    expect(e.kvCacheBytes).toBe(2 * 32 * 32 * 128 * 2048 * 2); // 1 GiB
    expect(e.totalBytes).toBe(e.weightsBytes + e.kvCacheBytes + e.workingBytes);
    expect(e.fits).toBe(true);
    expect(e.explanation).toMatch(/^llama-7b needs about 14\.\d GiB \(weights 12\.\d GiB in fp16 \+ KV cache 1\.0 GiB for 2048 tokens/);
  });

  it('refuses when total + headroom exceed free memory, saying what to do', () => {
    const e = estimateChatMemory({ modelId: 'm', name: 'llama-7b', shape: llama7b, precision: 'fp32', contextLength: 2048, freeBytes: 16 * 2 ** 30 });
    expect(e.fits).toBe(false);
    expect(e.explanation).toMatch(/but only 16\.0 GiB is free and 512 MiB is kept for the system\. Load it in fp16, choose a shorter context/);
  });

  it('sizes the chat context to the model, 2048 at most by default', () => {
    expect(chatContextLength(llama7b)).toBe(2048);
    expect(chatContextLength({ ...llama7b, maxPositionEmbeddings: 256 })).toBe(256);
    expect(chatContextLength(llama7b, 100_000)).toBe(4096);
    expect(parseBytes('512MB')).toBe(512e6);
    expect(parseBytes('2GiB')).toBe(2 * 2 ** 30);
    expect(parseBytes('lots')).toBeNull();
  });
});

describe('sampling settings', () => {
  it('fills missing fields from the base and keeps presets apart from hand-made settings', () => {
    expect(normalizeSampling({})).toEqual(defaultChatSampling);
    const precise = presetSampling('precise', { maxTokens: 64 });
    expect(normalizeSampling({ temperature: '0.5' as unknown as number }, precise)).toMatchObject({ temperature: 0.5, maxTokens: 64, preset: 'precise' });
    expect(normalizeSampling({ stop: 'END' as unknown as string[] }).stop).toEqual(['END']);
    expect(normalizeSampling({ seed: '' as unknown as number }).seed).toBeNull();
  });

  it('refuses out-of-range values naming the field and its range', () => {
    const bad = (p: Record<string, unknown>) => {
      try {
        normalizeSampling(p);
      } catch (err) {
        return err as DeepenError;
      }
      throw new Error('accepted');
    };
    expect(bad({ temperature: -1 }).message).toBe('The sampling setting temperature is -1, but it must be between 0 (greedy) and 5.');
    expect(bad({ topP: 0 }).message).toMatch(/top-p .* above 0 and at most 1/);
    expect(bad({ temperature: Number.NaN }).code).toBe('bad_request');
    expect(bad({ maxTokens: 0 }).message).toMatch(/max tokens/);
    expect(bad({ stop: [1, 2] }).message).toMatch(/Stop strings/);
    // A stored conversation with damaged settings still opens.
    expect(storedSampling({ temperature: 'hot' })).toEqual(defaultChatSampling);
  });
});

describe('conversation history', () => {
  let seq = 0;
  const msg = (role: Message['role'], content: string, modelId: string | null = null, state = 'done'): Message => ({
    id: `m${++seq}`,
    conversationId: 'c',
    seq,
    role,
    content,
    modelId,
    stats: role === 'assistant' ? { state } : null,
    createdAt: seq,
  });

  it('shows each model its own answers in compare mode, another model\'s where it had none, and skips failed ones', () => {
    const messages = [
      msg('user', 'q1'),
      msg('assistant', 'a1 from A', 'A'),
      msg('assistant', 'a1 from B', 'B'),
      msg('user', 'q2'),
      msg('assistant', 'a2 from A', 'A'),
      msg('assistant', '', 'B', 'failed'),
      msg('user', 'q3'),
      msg('assistant', 'old answer being replaced', 'B', 'streaming'),
    ];
    expect(buildHistory('Be kind.', messages, 'B')).toEqual([
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1 from B' },
      { role: 'user', content: 'q2' },
      { role: 'assistant', content: 'a2 from A' },
      { role: 'user', content: 'q3' },
    ]);
    expect(buildHistory('', messages, 'A').map((m) => m.content)).toEqual(['q1', 'a1 from A', 'q2', 'a2 from A', 'q3']);
  });
});

describe('fitting a long conversation', () => {
  it('drops the oldest turn but never the system prompt or the last user message', () => {
    const m = (role: string, content: string) => ({ role, content });
    const conv = [m('system', 's'), m('user', 'q1'), m('assistant', 'a1'), m('user', 'q2'), m('assistant', 'a2'), m('user', 'q3')];
    expect(withoutOldestTurn(conv)?.map((x) => x.content)).toEqual(['s', 'q2', 'a2', 'q3']);
    expect(withoutOldestTurn([m('system', 's'), m('user', 'q3')])).toBeNull();
    expect(withoutOldestTurn([m('user', 'q1'), m('assistant', 'a1'), m('assistant', 'b1'), m('user', 'q2')])?.map((x) => x.content)).toEqual(['q2']);
  });
});

describe('prompt ids', () => {
  it('parses comma or space separated ids and refuses anything else', () => {
    expect(parsePromptIds('1,2, 3 4')).toEqual([1, 2, 3, 4]);
    expect(() => parsePromptIds('1,-2')).toThrow(/--prompt-ids/);
    expect(() => parsePromptIds('')).toThrow(/--prompt-ids/);
  });
});
