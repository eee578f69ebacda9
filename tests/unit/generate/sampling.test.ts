import { describe, expect, it } from 'vitest';
import { DeepenError } from '../../../src/shared/errors';
import {
  GreedySampler,
  MinPProcessor,
  MultinomialSampler,
  RepetitionPenaltyProcessor,
  Rng,
  TemperatureProcessor,
  TopKProcessor,
  TopPProcessor,
  defaultSampling,
  greedySampling,
  planSampling,
  type SamplingSettings,
} from '../../../src/native/generate/sampling';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const kept = (logits: Float32Array): number[] => [...logits.keys()].filter((i) => logits[i] !== -Infinity);

function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const e = [...logits].map((x) => Math.exp(x - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** transformers' top-p, written the slow obvious way: sort ascending, drop while the cumulative mass is ≤ 1-p. */
function naiveTopP(logits: Float32Array, p: number): number[] {
  const probs = softmax(logits);
  const order = [...probs.keys()].sort((a, b) => probs[a] - probs[b] || b - a);
  let cumulative = 0;
  const removed = new Set<number>();
  order.forEach((i, rank) => {
    cumulative += probs[i];
    if (cumulative <= 1 - p && rank < order.length - 1) removed.add(i);
  });
  return [...probs.keys()].filter((i) => !removed.has(i));
}

function randomLogits(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

describe('logits processors', () => {
  it('repetition penalty divides positive and multiplies negative logits of seen ids, once per id', () => {
    const logits = f32([2, -2, 1, 3]);
    new RepetitionPenaltyProcessor(2).apply(logits, [0, 1, 1, 1]);
    expect([...logits]).toEqual([1, -4, 1, 3]);
  });

  it('temperature scales logits', () => {
    const logits = f32([2, -4, 1]);
    new TemperatureProcessor(0.5).apply(logits);
    expect([...logits]).toEqual([4, -8, 2]);
  });

  it('top-k keeps the k largest, and ties with the k-th', () => {
    const logits = f32([1, 5, 3, 3, 0, 4]);
    new TopKProcessor(3).apply(logits);
    expect(kept(logits)).toEqual([1, 2, 3, 5]);
    const big = randomLogits(new Rng(3), 5000, 10);
    const copy = Float32Array.from(big);
    new TopKProcessor(40).apply(big);
    const sorted = [...copy].sort((a, b) => b - a);
    expect(kept(big).length).toBe(40);
    expect(Math.min(...kept(big).map((i) => big[i]))).toBe(sorted[39]);
  });

  it('top-p keeps the smallest most-likely set reaching p, like transformers', () => {
    // probabilities 0.5, 0.3, 0.15, 0.05
    const logits = f32([0.5, 0.3, 0.15, 0.05].map(Math.log));
    const a = Float32Array.from(logits);
    new TopPProcessor(0.75).apply(a);
    expect(kept(a)).toEqual([0, 1]);
    const b = Float32Array.from(logits);
    new TopPProcessor(0.85).apply(b);
    expect(kept(b)).toEqual([0, 1, 2]);
    const c = Float32Array.from(logits);
    new TopPProcessor(0.01).apply(c);
    expect(kept(c)).toEqual([0]); // the top token always survives
  });

  it('top-p agrees with a full-sort implementation on large random vocabularies', () => {
    const rng = new Rng(11);
    for (const [n, scale, p] of [[1000, 3, 0.9], [32000, 8, 0.95], [20000, 1, 0.5], [5000, 20, 0.99]] as const) {
      const logits = randomLogits(rng, n, scale);
      const expected = naiveTopP(logits, p);
      const ours = Float32Array.from(logits);
      new TopPProcessor(p).apply(ours);
      expect(kept(ours)).toEqual(expected);
    }
  });

  it('min-p drops tokens below min_p × the top probability', () => {
    const logits = f32([0.5, 0.3, 0.15, 0.05].map(Math.log));
    new MinPProcessor(0.2).apply(logits); // cut at 0.1
    expect(kept(logits)).toEqual([0, 1, 2]);
  });
});

describe('samplers', () => {
  it('greedy takes the argmax, the first on a tie', () => {
    expect(new GreedySampler().sample(f32([1, 3, 3, 2]))).toBe(1);
  });

  it('the seeded generator is deterministic and uniform enough', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(new Rng(43).next()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
  });

  it('multinomial sampling follows the probabilities and never picks a masked token', () => {
    const probs = [0.6, 0.3, 0.1, 0];
    const logits = f32(probs.map((p) => (p === 0 ? -Infinity : Math.log(p))));
    const sampler = new MultinomialSampler(new Rng(7));
    const counts = [0, 0, 0, 0];
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampler.sample(logits)]++;
    expect(counts[3]).toBe(0);
    probs.forEach((p, i) => expect(Math.abs(counts[i] / n - p)).toBeLessThan(0.015));
  });
});

describe('planSampling', () => {
  const run = (settings: SamplingSettings, steps = 50): number[] => {
    const plan = planSampling(settings);
    const rng = new Rng(99); // the same logits sequence for every run
    const context: number[] = [];
    const out: number[] = [];
    for (let i = 0; i < steps; i++) {
      const logits = randomLogits(rng, 500, 4);
      for (const p of plan.processors) p.apply(logits, context);
      const id = plan.sampler.sample(logits);
      context.push(id);
      out.push(id);
    }
    return out;
  };

  it('the same seed gives the same tokens; another seed other tokens', () => {
    const s = { ...defaultSampling, seed: 1234 };
    expect(run(s)).toEqual(run(s));
    expect(run({ ...s, seed: 1235 })).not.toEqual(run(s));
  });

  it('draws and reports a seed when none is given, which reproduces the run', () => {
    const plan = planSampling(defaultSampling);
    expect(plan.seed).toEqual(expect.any(Number));
    expect(run({ ...defaultSampling, seed: plan.seed })).toEqual(run({ ...defaultSampling, seed: plan.seed }));
  });

  it('temperature 0 is greedy and applies only the repetition penalty', () => {
    const plan = planSampling({ ...greedySampling, repetitionPenalty: 1.3, topK: 5, topP: 0.5 });
    expect(plan.greedy).toBe(true);
    expect(plan.seed).toBeNull();
    expect(plan.processors.map((p) => p.name)).toEqual(['repetition_penalty']);
  });

  it('orders processors as transformers does and leaves out the ones turned off', () => {
    expect(planSampling({ ...defaultSampling, seed: 1 }).processors.map((p) => p.name)).toEqual(['repetition_penalty', 'temperature', 'top_k', 'top_p', 'min_p']);
    expect(planSampling({ temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 1 }).processors).toEqual([]);
  });

  it('refuses settings out of range with a message naming the setting', () => {
    const bad: Partial<SamplingSettings>[] = [{ temperature: -1 }, { topK: 2.5 }, { topP: 0 }, { topP: 1.5 }, { minP: 1 }, { repetitionPenalty: 0 }, { seed: -3 }];
    for (const b of bad) {
      const err = (() => {
        try {
          planSampling({ ...defaultSampling, ...b });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(DeepenError);
      expect((err as DeepenError).code).toBe('bad_request');
      expect((err as DeepenError).message).toContain(Object.keys(b)[0]);
    }
  });
});
