import type { ChatSampling } from '../../shared/contract/chat';
import { DeepenError } from '../../shared/errors';

// Choosing the next token, split as in transformers(.js): logits processors
// rewrite the last position's logits in place (masked tokens become -Infinity),
// then a sampler picks an id. Order and semantics follow transformers'
// `generate`: repetition penalty, then temperature, top-k, top-p, min-p; with
// temperature 0 (greedy) only the repetition penalty applies before argmax.
// Sampling is deterministic for a given seed: same prompt, same settings, same
// seed → same tokens.

/** What the sampler takes: the chat panel's settings without the answer's limits. */
export type SamplingSettings = Pick<ChatSampling, 'temperature' | 'topK' | 'topP' | 'minP' | 'repetitionPenalty' | 'seed'>;

export const greedySampling: SamplingSettings = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: null };
export const defaultSampling: SamplingSettings = { temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1, seed: null };

export interface LogitsProcessor {
  readonly name: string;
  /** Rewrites `logits` (one position, vocab-sized) in place; `context` is prompt + generated ids. */
  apply(logits: Float32Array, context: readonly number[]): void;
}

export class RepetitionPenaltyProcessor implements LogitsProcessor {
  readonly name = 'repetition_penalty';
  constructor(private readonly penalty: number) {}
  apply(logits: Float32Array, context: readonly number[]): void {
    // Each id once: a token seen twice is penalised once, as in transformers.
    for (const id of new Set(context)) {
      if (id < 0 || id >= logits.length) continue;
      const v = logits[id];
      logits[id] = v < 0 ? v * this.penalty : v / this.penalty;
    }
  }
}

export class TemperatureProcessor implements LogitsProcessor {
  readonly name = 'temperature';
  constructor(private readonly temperature: number) {}
  apply(logits: Float32Array): void {
    const inv = 1 / this.temperature;
    for (let i = 0; i < logits.length; i++) logits[i] *= inv;
  }
}

export class TopKProcessor implements LogitsProcessor {
  readonly name = 'top_k';
  constructor(private readonly k: number) {}
  apply(logits: Float32Array): void {
    if (this.k >= logits.length) return;
    // Ties with the k-th value are kept, as transformers' `scores < kth` mask does.
    const kth = kthLargest(logits, this.k);
    for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = -Infinity;
  }
}

export class TopPProcessor implements LogitsProcessor {
  readonly name = 'top_p';
  constructor(private readonly p: number) {}
  apply(logits: Float32Array): void {
    const max = maxOf(logits);
    if (max === -Infinity) return;
    const weights = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += weights[i] = Math.exp(logits[i] - max);
    const target = this.p * total;
    // Sorting a 128k vocabulary every step costs more than a small model's
    // forward pass; the nucleus is inside the set of tokens above some weight,
    // so we lower a threshold until that set holds enough mass and sort only it.
    let threshold = 1 / 16;
    let candidates: number[] = [];
    for (;;) {
      candidates = [];
      let mass = 0;
      for (let i = 0; i < weights.length; i++) if (weights[i] >= threshold) { candidates.push(i); mass += weights[i]; }
      if (mass >= target || threshold === 0) break;
      threshold = threshold < 1e-30 ? 0 : threshold / 16;
    }
    candidates.sort((a, b) => weights[b] - weights[a] || a - b);
    const keep = new Uint8Array(logits.length);
    let before = 0;
    for (const i of candidates) {
      if (before >= target) break; // a token is kept while the mass above it is short of p
      keep[i] = 1;
      before += weights[i];
    }
    for (let i = 0; i < logits.length; i++) if (!keep[i]) logits[i] = -Infinity;
  }
}

export class MinPProcessor implements LogitsProcessor {
  readonly name = 'min_p';
  constructor(private readonly minP: number) {}
  apply(logits: Float32Array): void {
    // prob_i < minP · prob_max  ⇔  logit_i < logit_max + ln(minP)
    const max = maxOf(logits);
    if (max === -Infinity) return;
    const cut = max + Math.log(this.minP);
    for (let i = 0; i < logits.length; i++) if (logits[i] < cut) logits[i] = -Infinity;
  }
}

export interface Sampler {
  sample(logits: Float32Array): number;
}

/** Argmax; the first index wins a tie, like torch.argmax. */
export class GreedySampler implements Sampler {
  sample(logits: Float32Array): number {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
}

export class MultinomialSampler implements Sampler {
  constructor(private readonly rng: Rng) {}
  sample(logits: Float32Array): number {
    const max = maxOf(logits);
    if (max === -Infinity) return new GreedySampler().sample(logits);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i] - max);
    const target = this.rng.next() * total;
    let cumulative = 0;
    let last = 0;
    for (let i = 0; i < logits.length; i++) {
      if (logits[i] === -Infinity) continue;
      cumulative += Math.exp(logits[i] - max);
      last = i;
      if (cumulative > target) return i;
    }
    return last; // rounding left the draw just past the end
  }
}

/**
 * xoshiro128** seeded through splitmix32: small, fast, and the same sequence
 * on every platform, which Math.random is not.
 */
export class Rng {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    // Seeds up to 2^53 are folded into 32 bits from both halves.
    let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

export interface SamplingPlan {
  processors: LogitsProcessor[];
  sampler: Sampler;
  greedy: boolean;
  /** The seed in use (drawn when settings.seed is null); null for greedy. */
  seed: number | null;
}

/** Validates the settings and builds the processors and sampler for one generation. */
export function planSampling(settings: SamplingSettings): SamplingPlan {
  checkSettings(settings);
  const processors: LogitsProcessor[] = [];
  if (settings.repetitionPenalty !== 1) processors.push(new RepetitionPenaltyProcessor(settings.repetitionPenalty));
  if (settings.temperature === 0) return { processors, sampler: new GreedySampler(), greedy: true, seed: null };
  if (settings.temperature !== 1) processors.push(new TemperatureProcessor(settings.temperature));
  if (settings.topK > 0) processors.push(new TopKProcessor(settings.topK));
  if (settings.topP < 1) processors.push(new TopPProcessor(settings.topP));
  if (settings.minP > 0) processors.push(new MinPProcessor(settings.minP));
  const seed = settings.seed ?? Math.floor(Math.random() * 2 ** 32);
  return { processors, sampler: new MultinomialSampler(new Rng(seed)), greedy: false, seed };
}

function checkSettings(s: SamplingSettings): void {
  const bad = (what: string, value: unknown, rule: string): never => {
    throw new DeepenError('bad_request', `Sampling setting ${what} is ${String(value)}, but it must be ${rule}.`, { setting: what, value });
  };
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0)) bad('temperature', s.temperature, '0 (greedy) or more');
  if (!(Number.isInteger(s.topK) && s.topK >= 0)) bad('topK', s.topK, 'a whole number, 0 to turn it off');
  if (!(s.topP > 0 && s.topP <= 1)) bad('topP', s.topP, 'above 0 and at most 1 (1 turns it off)');
  if (!(s.minP >= 0 && s.minP < 1)) bad('minP', s.minP, 'at least 0 (off) and below 1');
  if (!(Number.isFinite(s.repetitionPenalty) && s.repetitionPenalty > 0)) bad('repetitionPenalty', s.repetitionPenalty, 'above 0 (1 turns it off)');
  if (s.seed !== null && !(Number.isSafeInteger(s.seed) && s.seed >= 0)) bad('seed', s.seed, 'a whole number ≥ 0, or empty for a random one');
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function maxOf(values: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}

/** The k-th largest value (1-based) by quickselect on a copy: O(V), no full sort. */
function kthLargest(values: Float32Array, k: number): number {
  const a = Float32Array.from(values);
  const want = a.length - k; // index of the k-th largest in ascending order
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = medianOfThree(a[lo], a[(lo + hi) >>> 1], a[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i]; a[i] = a[j]; a[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return a[want];
  }
  return a[want];
}

function medianOfThree(x: number, y: number, z: number): number {
  return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
}
