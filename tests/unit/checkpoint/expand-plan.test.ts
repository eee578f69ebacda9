import { describe, expect, it } from 'vitest';
import { normalizePlan, planExpansion, type ExpansionPlan } from '../../../src/native/checkpoint/expand-plan';
import { thrownBy } from '../../expect-error';

/** Invariants every plan must satisfy, whatever the strategy. */
function checkInvariants(plan: ExpansionPlan) {
  expect(plan.newDepth).toBe(plan.baseLayers + plan.added);
  expect(plan.layers.map((l) => l.index)).toEqual([...Array(plan.newDepth).keys()]);
  expect(plan.layers.filter((l) => !l.isNew).map((l) => l.source)).toEqual([...Array(plan.baseLayers).keys()]);
  plan.oldToNew.forEach((n, i) => expect(plan.layers[n]).toEqual({ index: n, source: i, isNew: false }));
  expect(plan.newBlockIndices).toEqual(plan.layers.filter((l) => l.isNew).map((l) => l.index));
  for (const ins of plan.insertions) expect(plan.layers[ins.newIndex]).toEqual({ index: ins.newIndex, source: ins.source, isNew: true });
}

describe('planExpansion', () => {
  it('reproduces the paper: LLaMA2-7B 32 → 40, new blocks at 4, 9, …, 39', () => {
    const plan = planExpansion(32, { strategy: 'interleaved', add: 8 });
    checkInvariants(plan);
    expect(plan.newBlockIndices).toEqual([4, 9, 14, 19, 24, 29, 34, 39]);
    expect(plan.insertions.map((i) => i.source)).toEqual([3, 7, 11, 15, 19, 23, 27, 31]);
    // the authors' renumbering: 0–3 stay, copy of 3 is 4, original 4 becomes 5
    expect(plan.oldToNew.slice(0, 6)).toEqual([0, 1, 2, 3, 5, 6]);
    expect(plan.warnings).toEqual([]);
    expect(plan.description).toContain('8 groups of 4');
  });

  it.each([
    [8, 2, [4, 9]],
    [4, 2, [2, 5]],
  ])('fixtures: %i layers + %i → %j', (L, add, expected) => {
    expect(planExpansion(L, { strategy: 'interleaved', add }).newBlockIndices).toEqual(expected);
  });

  it('spreads copies evenly when the depth does not divide: 49 layers + 8', () => {
    const plan = planExpansion(49, { strategy: 'interleaved', add: 8 });
    checkInvariants(plan);
    expect(plan.newDepth).toBe(57);
    const sizes = plan.groups!.map((g) => g.last - g.first + 1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(49);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBe(1);
    expect(plan.groups![0].first).toBe(0);
    expect(plan.groups!.at(-1)!.last).toBe(48);
    expect(plan.insertions.at(-1)!.source).toBe(48); // the last copy still sits on top
    expect(plan.warnings.join(' ')).toContain('do not split evenly');
  });

  it('7 layers + 2', () => {
    const plan = planExpansion(7, { strategy: 'interleaved', add: 2 });
    checkInvariants(plan);
    expect(plan.groups).toEqual([
      { first: 0, last: 2 },
      { first: 3, last: 6 },
    ]);
    expect(plan.newBlockIndices).toEqual([3, 8]);
  });

  it('P copies per group', () => {
    const plan = planExpansion(8, { strategy: 'interleaved', add: 4, copiesPerGroup: 2 });
    checkInvariants(plan);
    expect(plan.newBlockIndices).toEqual([4, 5, 10, 11]);
    expect(plan.insertions.map((i) => i.source)).toEqual([3, 3, 7, 7]);
  });

  it('top and bottom carry the paper\'s warnings', () => {
    const top = planExpansion(4, { strategy: 'top', add: 2 });
    checkInvariants(top);
    expect(top.newBlockIndices).toEqual([4, 5]);
    expect(top.insertions.every((i) => i.source === 3)).toBe(true);
    expect(top.warnings[0]).toContain('60.98');
    const bottom = planExpansion(4, { strategy: 'bottom', add: 2 });
    checkInvariants(bottom);
    expect(bottom.newBlockIndices).toEqual([0, 1]);
    expect(bottom.oldToNew).toEqual([2, 3, 4, 5]);
    expect(bottom.warnings[0]).toContain('29.36');
  });

  it('custom positions, duplicates and below block 0', () => {
    const plan = planExpansion(4, { strategy: 'custom', positions: [2, -1, 2] });
    checkInvariants(plan);
    expect(plan.newBlockIndices).toEqual([0, 4, 5]);
    expect(plan.insertions.map((i) => i.source)).toEqual([0, 2, 2]);
    expect(plan.warnings).toHaveLength(1);
    const withSource = planExpansion(4, { strategy: 'custom', insertions: [{ after: 1, source: 3 }] });
    expect(withSource.layers[2]).toEqual({ index: 2, source: 3, isNew: true });
  });

  it('refuses impossible requests with bad_request', () => {
    const bad = (fn: () => unknown) => {
      const err = thrownBy(fn);
      expect(err.code).toBe('bad_request');
      return err.message;
    };
    expect(bad(() => planExpansion(4, { strategy: 'interleaved', add: 0 }))).toContain('add');
    expect(bad(() => planExpansion(4, { strategy: 'interleaved', add: 8 }))).toContain('copiesPerGroup');
    expect(bad(() => planExpansion(4, { strategy: 'interleaved', add: 3, copiesPerGroup: 2 }))).toContain('multiple');
    expect(bad(() => planExpansion(4, { strategy: 'custom', positions: [4] }))).toContain('between -1 and 3');
    expect(bad(() => planExpansion(4, { strategy: 'custom', positions: [] }))).toContain('position');
    expect(bad(() => planExpansion(4, { strategy: 'sideways' as 'top', add: 1 }))).toContain('interleaved');
    expect(bad(() => planExpansion(4, { strategy: 'top', add: 1.5 }))).toContain('add');
  });
});

describe('normalizePlan', () => {
  it('rebuilds derived fields from insertions and checks the depth', () => {
    const plan = planExpansion(8, { strategy: 'interleaved', add: 2 });
    const tampered = { ...plan, newBlockIndices: [0, 1], newDepth: 99 } as ExpansionPlan;
    const fixed = normalizePlan(tampered, 8);
    expect(fixed.newBlockIndices).toEqual([4, 9]);
    expect(fixed.newDepth).toBe(10);
    expect(() => normalizePlan(plan, 4)).toThrow(/8 blocks/);
    expect(() => normalizePlan({ ...plan, insertions: [{ after: 9, source: 0, newIndex: 0 }] }, 8)).toThrow(/outside/);
  });
});
