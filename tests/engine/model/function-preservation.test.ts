// An expanded checkpoint (written by the checkpoint engine) must compute the
// base model's function; its logits must also match transformers' `expanded.logits`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { planExpansion } from '../../../src/native/checkpoint/expand-plan';
import { expandCheckpoint } from '../../../src/native/checkpoint/expand-writer';
import { functionPreservationCheck, probeIds } from '../../../src/native/model/function-preservation';
import { loadModel } from '../../../src/native/model/load';
import { fixtureNames, fixturesDir, maxAbsDiff, readReference, tempCacheDir } from './reference';

const work = tempCacheDir('preservation');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const fixtures = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'fixtures.json'), 'utf8')) as {
  cases: Record<string, { layers: number; expanded_layers: number; new_layer_indices: number[] }>;
};

describe.each(fixtureNames.flatMap((name) => (['packed', 'verbatim'] as const).map((layout) => [name, layout] as const)))('%s expanded (%s layout)', (name, layout) => {
  const spec = fixtures.cases[name];
  const baseDir = path.join(fixturesDir, name);
  const outDir = path.join(work, `${name}-pro-${layout}`);
  const cacheDir = path.join(work, 'cache');

  test('the expanded model computes the base function (and matches transformers)', async () => {
    const plan = planExpansion(spec.layers, { strategy: 'interleaved', add: spec.expanded_layers - spec.layers });
    expect(plan.newBlockIndices).toEqual(spec.new_layer_indices);
    await expandCheckpoint(baseDir, outDir, plan, { layout });

    const result = await functionPreservationCheck(baseDir, outDir, { cacheDir });
    console.log(`[${name}] function preservation: max |Δlogit| = ${result.maxAbsDiff.toExponential(3)}, argmax agreement ${result.argmaxAgreement}`);
    expect(result.ok).toBe(true);
    expect(result.maxAbsDiff).toBeLessThan(1e-4);
    expect(result.argmaxAgreement).toBe(1);

    const ref = await readReference(name);
    const model = await loadModel(outDir, { provider: 'cpu', precision: 'fp32', cacheDir });
    try {
      expect(model.config.numLayers).toBe(spec.expanded_layers);
      const diff = maxAbsDiff(await model.fullLogits(ref.inputIds), ref.expandedLogits!);
      console.log(`[${name}] expanded logits vs transformers: max |Δlogit| = ${diff.toExponential(3)}`);
      expect(diff).toBeLessThan(1e-4);
    } finally {
      await model.dispose();
    }
  });
});

test('probe ids are deterministic and inside the vocabulary', () => {
  const a = probeIds(512);
  expect(a).toEqual(probeIds(512));
  expect(a.flat().every((i) => i >= 0 && i < 512)).toBe(true);
});
