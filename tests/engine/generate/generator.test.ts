import { beforeAll, describe, expect, it } from 'vitest';
import { DeepenError } from '../../../src/shared/errors';
import { generate, type Decoder } from '../../../src/native/generate/generator';
import { defaultSampling, greedySampling, Rng } from '../../../src/native/generate/sampling';
import { TextTokenizer } from '../../../src/native/generate/tokenizer';
import { tokenizerDirs } from './fixture-paths';

// The loop over a fake decoder: these tests check sampling, stopping and
// streaming logic only. Whether the real ONNX decoder produces the right
// logits is tested against the checkpoint fixtures in tests/engine/model.

const VOCAB = 32000;

/** Puts a clear maximum on the next id of a script, position by position; records what it was fed. */
class ScriptedDecoder implements Decoder {
  fed: number[] = [];
  resets = 0;
  constructor(private readonly script: number[], readonly maxContext = 256, private readonly clock?: { t: number; prefillMs: number; stepMs: number }) {}
  private logitsFor(position: number): Float32Array {
    const logits = new Float32Array(VOCAB);
    logits[this.script[position] ?? 0] = 10;
    return logits;
  }
  reset(): void {
    this.resets++;
    this.fed = [];
  }
  prefill(ids: number[]): Float32Array {
    this.fed.push(...ids);
    if (this.clock) this.clock.t += this.clock.prefillMs;
    return this.logitsFor(0);
  }
  private generated = 0;
  step(id: number): Float32Array {
    this.fed.push(id);
    if (this.clock) this.clock.t += this.clock.stepMs;
    return this.logitsFor(++this.generated);
  }
}

/** Logits that are a pseudo-random function of the context length and last id, so sampling has something to choose from. */
class NoisyDecoder implements Decoder {
  readonly maxContext = 512;
  private length = 0;
  private last = 0;
  reset(): void {
    this.length = 0;
  }
  private logits(): Float32Array {
    const rng = new Rng(this.length * 100_003 + this.last);
    return Float32Array.from({ length: VOCAB }, () => rng.next() * 8);
  }
  prefill(ids: number[]): Float32Array {
    this.length = ids.length;
    this.last = ids[ids.length - 1];
    return this.logits();
  }
  async step(id: number): Promise<Float32Array> {
    this.length++;
    this.last = id;
    return this.logits();
  }
}

let tok: TextTokenizer;
beforeAll(async () => {
  tok = await TextTokenizer.fromDir(tokenizerDirs.llama2);
});
const prompt = (): number[] => tok.encode('Once upon a time');

describe('generate', () => {
  it('streams text that adds up to the result, and stops at EOS (kept in the ids, not in the text)', async () => {
    const body = tok.encode('Hello world! ünïcödé 🦙', { addSpecialTokens: false });
    const decoder = new ScriptedDecoder([...body, 2, 500, 501]);
    const deltas: string[] = [];
    const tokens: number[] = [];
    const r = await generate(decoder, tok, prompt(), { sampling: greedySampling, eosIds: tok.eosIds, onText: (d) => deltas.push(d), onToken: (id) => tokens.push(id) });
    expect(r.stopReason).toBe('eos');
    expect(r.newIds).toEqual([...body, 2]);
    expect(tokens).toEqual(r.newIds);
    expect(r.text).toBe('Hello world! ünïcödé 🦙');
    expect(deltas.join('')).toBe(r.text);
    for (const d of deltas) expect(d).not.toContain('\uFFFD');
    expect(decoder.resets).toBe(1);
    expect(decoder.fed).toEqual([...prompt(), ...body]); // EOS is never fed back
  });

  it('ignoreEos keeps going to the token budget', async () => {
    const decoder = new ScriptedDecoder([415, 2, 2936, 9060]);
    const r = await generate(decoder, tok, prompt(), { sampling: greedySampling, eosIds: [2], ignoreEos: true, maxNewTokens: 4 });
    expect(r.stopReason).toBe('max_tokens');
    expect(r.newIds).toEqual([415, 2, 2936, 9060]);
  });

  it('stops at a stop string split across tokens and leaves it out of the text', async () => {
    const body = tok.encode('Sure thing.\nUser: what next', { addSpecialTokens: false });
    const deltas: string[] = [];
    const r = await generate(new ScriptedDecoder(body), tok, prompt(), { sampling: greedySampling, stopStrings: ['\nUser:'], onText: (d) => deltas.push(d) });
    expect(r.stopReason).toBe('stop_string');
    expect(r.stopString).toBe('\nUser:');
    expect(r.text).toBe('Sure thing.');
    expect(deltas.join('')).toBe('Sure thing.');
    expect(r.newIds.length).toBeLessThan(body.length);
  });

  it('stops when the context is full, and refuses a prompt that leaves no room, giving both numbers', async () => {
    const p = prompt(); // 5 tokens
    const r = await generate(new ScriptedDecoder(Array(50).fill(415), 8), tok, p, { sampling: greedySampling });
    expect(r.stopReason).toBe('context_full');
    expect(r.newIds).toHaveLength(8 - p.length);

    const long = tok.encode('word '.repeat(300));
    const err = await generate(new ScriptedDecoder([415], 256), tok, long, { sampling: greedySampling }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeepenError);
    expect((err as DeepenError).code).toBe('bad_request');
    expect((err as DeepenError).message).toContain(`${long.length} tokens`);
    expect((err as DeepenError).message).toContain('256 tokens');
    const empty = await generate(new ScriptedDecoder([415]), tok, [], { sampling: greedySampling }).catch((e: unknown) => e);
    expect((empty as DeepenError).code).toBe('bad_request');
  });

  it('cancels between tokens, keeping what was generated', async () => {
    const controller = new AbortController();
    let count = 0;
    const r = await generate(new NoisyDecoder(), tok, prompt(), {
      sampling: { ...defaultSampling, seed: 1 },
      maxNewTokens: 100,
      signal: controller.signal,
      onToken: () => {
        if (++count === 3) controller.abort();
      },
    });
    expect(r.stopReason).toBe('cancelled');
    expect(r.newIds).toHaveLength(3);
  });

  it('a cancel that arrives as an event (timer, message) during generation is seen', async () => {
    const controller = new AbortController();
    const decoder = new ScriptedDecoder(Array(10_000).fill(415), 100_000);
    setTimeout(() => controller.abort(), 20);
    const r = await generate(decoder, tok, prompt(), { sampling: greedySampling, signal: controller.signal });
    expect(r.stopReason).toBe('cancelled');
    expect(r.newIds.length).toBeGreaterThan(0);
    expect(r.newIds.length).toBeLessThan(10_000);
  });

  it('sampling is deterministic given a seed, and reports the seed it drew', async () => {
    const run = (seed: number | null) => generate(new NoisyDecoder(), tok, prompt(), { sampling: { ...defaultSampling, seed }, maxNewTokens: 20 });
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    expect(a.newIds).toEqual(b.newIds);
    expect(a.text).toBe(b.text);
    expect(c.newIds).not.toEqual(a.newIds);
    const drawn = await run(null);
    expect(drawn.seed).toEqual(expect.any(Number));
    expect((await run(drawn.seed)).newIds).toEqual(drawn.newIds);
  });

  it('reports time to first token, prefill and decode speed', async () => {
    const clock = { t: 0, prefillMs: 200, stepMs: 10 };
    const p = prompt();
    const r = await generate(new ScriptedDecoder([415, 2936, 9060, 285, 2], 256, clock), tok, p, { sampling: greedySampling, eosIds: [2], now: () => clock.t });
    expect(r.stats).toEqual({
      promptTokens: p.length,
      generatedTokens: 5,
      timeToFirstTokenMs: 200,
      prefillMs: 200,
      prefillTokensPerSecond: (p.length * 1000) / 200,
      decodeMs: 40,
      decodeTokensPerSecond: 100,
      totalMs: 240,
    });
  });

  it('NaN logits are an error that says what to check', async () => {
    const decoder: Decoder = { maxContext: 64, reset() {}, prefill: () => new Float32Array(10).fill(NaN), step: () => new Float32Array(10) };
    const err = await generate(decoder, tok, prompt(), { sampling: greedySampling }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeepenError);
    expect((err as DeepenError).message).toMatch(/NaN/);
  });
});
