// Full-sequence logits and greedy decoding with the KV cache against the
// transformers reference, on the CPU in float32, for both graph variants.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/native/model/load';
import type { Variant } from '../../../src/native/model/forward-graph';
import { fixtureNames, fixturesDir, greedyDecode, maxAbsDiff, readReference, tempCacheDir, type Reference } from './reference';

const cacheDir = tempCacheDir('cpu-logits');
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

describe.each(fixtureNames)('%s on cpu', (name) => {
  let ref: Reference;
  beforeAll(async () => {
    ref = await readReference(name);
  });

  describe.each(['plain', 'fused'] as Variant[])('%s graph', (variant) => {
    let model: LoadedModel;
    beforeAll(async () => {
      model = await loadModel(path.join(fixturesDir, name), { provider: 'cpu', precision: 'fp32', variant, cacheDir });
    });
    afterAll(() => model?.dispose());

    test('full-sequence logits match transformers within 1e-4', async () => {
      const logits = await model.fullLogits(ref.inputIds);
      const diff = maxAbsDiff(logits, ref.logits);
      console.log(`[${name} cpu ${variant}] max |Δlogit| = ${diff.toExponential(3)}`);
      expect(diff).toBeLessThan(1e-4);
    });

    test('greedy decoding with the KV cache gives the reference ids', async () => {
      expect(await greedyDecode(model, ref.inputIds[0].slice(0, 6), 12)).toEqual(ref.greedyIds);
    });
  });
});
