// The LLaMA Pro promise, checked: an expanded model (new blocks with zeroed
// o_proj/down_proj) computes the same function as its base. Runs both models
// on the same token ids and reports the largest logit difference. The host
// runs this after every expansion and shows the number to the user.

import { DeepenError } from '../../shared/errors';
import type { Provider } from '../onnx/runtime';
import { loadModel, type LoadedModel } from './load';

export interface PreservationResult {
  /** max |logit_expanded − logit_base| over every position and vocabulary entry */
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** positions where both models pick the same top token */
  argmaxAgreement: number;
  positions: number;
  provider: Provider;
  ms: number;
  /** float32 rounding of a few dozen blocks stays far below this; above it something is wrong */
  tolerance: number;
  ok: boolean;
}

export interface PreservationOptions {
  /** token ids to score; default: two seeded pseudo-random rows of 16 */
  ids?: number[][];
  provider?: Provider;
  cacheDir?: string;
  /** cacheDir is removed after the check (see LoadOptions.throwawayCache) */
  throwawayCache?: boolean;
  tolerance?: number;
}

/** Deterministic ids spread over the vocabulary (an LCG: same ids on every run and machine). */
export function probeIds(vocab: number, rows = 2, length = 16, seed = 1234): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % vocab;
  };
  return Array.from({ length: rows }, () => Array.from({ length }, next));
}

export async function functionPreservationCheck(baseDir: string, expandedDir: string, opts: PreservationOptions = {}): Promise<PreservationResult> {
  const started = performance.now();
  const provider = opts.provider ?? 'cpu';
  // One forward pass each: mapping the weights (no prepacking) starts a 1.1B model in 0.1 s instead of 25 s.
  const load = (dir: string) => loadModel(dir, { provider, precision: 'fp32', cacheDir: opts.cacheDir, shareWeights: true, throwawayCache: opts.throwawayCache });
  // One model in memory at a time: the pair may not fit together.
  const run = async (dir: string, ids: (vocab: number) => number[][]) => {
    const model: LoadedModel = await load(dir);
    try {
      return { logits: await model.fullLogits(ids(model.config.vocabSize)), vocab: model.config.vocabSize, provider: model.provider };
    } finally {
      await model.dispose();
    }
  };
  let ids: number[][] | null = opts.ids ?? null;
  const base = await run(baseDir, (v) => (ids ??= probeIds(v)));
  const expanded = await run(expandedDir, () => ids!);
  if (base.vocab !== expanded.vocab) {
    throw new DeepenError('bad_request', `The models have different vocabularies (${base.vocab} vs ${expanded.vocab}); ${expandedDir} is not an expansion of ${baseDir}.`);
  }
  const V = base.vocab;
  let max = 0;
  let sum = 0;
  for (let i = 0; i < base.logits.length; i++) {
    const d = Math.abs(base.logits[i] - expanded.logits[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
    sum += d;
  }
  const positions = base.logits.length / V;
  let agree = 0;
  for (let p = 0; p < positions; p++) if (argmaxAt(base.logits, p, V) === argmaxAt(expanded.logits, p, V)) agree++;
  const tolerance = opts.tolerance ?? 1e-3;
  return {
    maxAbsDiff: max,
    meanAbsDiff: sum / base.logits.length,
    argmaxAgreement: agree / positions,
    positions,
    provider: base.provider,
    ms: performance.now() - started,
    tolerance,
    ok: max <= tolerance,
  };
}

function argmaxAt(x: Float32Array, row: number, V: number): number {
  let best = row * V;
  for (let i = row * V + 1; i < (row + 1) * V; i++) if (x[i] > x[best]) best = i;
  return best - row * V;
}
