// The fixture checks on ONNX Runtime's WebGPU EP with CPU fallback disabled,
// so the whole graph is proven to run on it. On CPU-only machines this is
// Mesa lavapipe (float32 maths on the CPU, through Vulkan).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadModel, type LoadedModel } from '../../../src/native/model/load';
import type { Variant } from '../../../src/native/model/forward-graph';
import type { WeightPrecision } from '../../../src/native/onnx/weights-file';
import { fixtureNames, fixturesDir, greedyDecode, maxAbsDiff, readReference, tempCacheDir, type Reference } from './reference';
import { vulkanUnavailableReason } from './webgpu-env';

const skipReason = vulkanUnavailableReason();
if (skipReason) console.warn(`Skipping WebGPU engine tests: ${skipReason}.`);

/**
 * Measured on lavapipe 25.0: fp32 max |Δlogit| ≤ 4.3e-6 on every fixture (the CPU EP: ≤ 4.2e-6);
 * fp16 (weights, activations and KV cache) ≤ 2.2e-3, with every argmax and the greedy ids unchanged.
 */
const TOLERANCE: Record<WeightPrecision, number> = { fp32: 1e-4, fp16: 5e-3 };
/** lavapipe compiles every shader on first use; on a busy 2-core runner that can take a minute. */
const SLOW = 300_000;

const cacheDir = tempCacheDir('webgpu-logits');
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

describe.skipIf(skipReason !== null).each(fixtureNames)('%s on webgpu', (name) => {
  let ref: Reference;
  beforeAll(async () => {
    ref = await readReference(name);
  });

  const cases = (['plain', 'fused'] as Variant[]).flatMap((variant) => (['fp32', 'fp16'] as WeightPrecision[]).map((precision) => ({ variant, precision })));
  describe.each(cases)('$variant graph, $precision', ({ variant, precision }) => {
    let model: LoadedModel;
    beforeAll(async () => {
      model = await loadModel(path.join(fixturesDir, name), { provider: 'webgpu', precision, variant, cacheDir, disableCpuFallback: true, fallbackToCpu: false });
    }, SLOW);
    afterAll(() => model?.dispose());

    test('full-sequence logits match transformers', async () => {
      expect(model.provider).toBe('webgpu');
      const logits = await model.fullLogits(ref.inputIds);
      const diff = maxAbsDiff(logits, ref.logits);
      console.log(`[${name} webgpu ${variant} ${precision}] max |Δlogit| = ${diff.toExponential(3)}`);
      expect(diff).toBeLessThan(TOLERANCE[precision]);
    }, SLOW);

    test('greedy decoding with the KV cache on the device gives the reference ids', async () => {
      expect(await greedyDecode(model, ref.inputIds[0].slice(0, 6), 12)).toEqual(ref.greedyIds);
    }, SLOW);
  });
});
