// The models and expand stores against an in-memory engine: the registry
// list kept live by events, the lineage tree, errors handed back to the page,
// the plan draft (presets, slot clicks, stale answers dropped) and the job.
import { describe, expect, it } from 'vitest';
import type { ModelRecord, PlanParams, PlanResult } from '../../../src/shared/contract';
import { DeepenError } from '../../../src/shared/errors';
import { lineageTree, useModelsStore } from '../../../src/renderer/src/stores/useModelsStore';
import { defaultGroups, draftToParams, toggleSlotInsertions, useExpandStore } from '../../../src/renderer/src/stores/useExpandStore';
import { useNotificationsStore } from '../../../src/renderer/src/stores/useNotificationsStore';
import { fakeEngine } from './fake-engine';

function model(id: string, over: Partial<ModelRecord> = {}): ModelRecord {
  return {
    id,
    name: id,
    path: `/models/${id}`,
    addedAt: 1,
    summary: { layers: 8, blockParams: new Array(8).fill(100), paramsTotal: 1000 } as ModelRecord['summary'],
    lineage: null,
    preservation: null,
    structural: null,
    present: true,
    ...over,
  };
}

const child = (id: string, parentId: string, addedAt = 2) => model(id, { addedAt, lineage: { kind: 'expanded', parentId, parentName: parentId, parentPath: `/models/${parentId}` } });

/** A plan answer shaped like the engine's, enough for the store. */
function planFor(p: PlanParams): PlanResult {
  const ins =
    p.strategy === 'custom'
      ? p.insertions!.map((i) => ({ after: i.after, source: i.source ?? Math.max(i.after, 0) }))
      : p.strategy === 'interleaved'
        ? Array.from({ length: p.groups! }, (_, g) => ({ after: ((g + 1) * 8) / p.groups! - 1, source: ((g + 1) * 8) / p.groups! - 1 }))
        : Array.from({ length: p.add! }, () => ({ after: p.strategy === 'top' ? 7 : -1, source: p.strategy === 'top' ? 7 : 0 }));
  return {
    plan: { strategy: p.strategy, baseLayers: 8, added: ins.length, newDepth: 8 + ins.length, insertions: ins.map((i, k) => ({ ...i, newIndex: k })), layers: [], oldToNew: [], newBlockIndices: [], warnings: [], description: '' },
    figures: {} as PlanResult['figures'],
    suggestedName: 'x',
    suggestedOutDir: '/out/x',
  };
}

describe('lineageTree', () => {
  it('puts children under their parents and treats a missing parent as a root', () => {
    const rows = lineageTree([model('a', { addedAt: 1 }), child('b', 'a', 3), child('c', 'b', 4), child('orphan', 'gone', 5), child('d', 'a', 2)]);
    expect(rows.map((r) => `${r.model.id}:${r.depth}`)).toEqual(['orphan:0', 'a:0', 'd:1', 'b:1', 'c:2']);
  });
});

describe('useModelsStore', () => {
  it('loads, follows model.changed and reloads when an expand job succeeds', async () => {
    let list = [model('a')];
    const engine = fakeEngine({ 'models.list': () => list, 'models.get': ({ id }) => (id === 'a' ? { ...list[0], name: 'renamed' } : model(id)) });
    const store = useModelsStore();
    await store.load();
    expect(store.models.map((m) => m.id)).toEqual(['a']);

    engine.emit('model.changed', { id: 'a' });
    await engine.flush();
    expect(store.byId.a.name).toBe('renamed');

    engine.emit('model.changed', { id: 'a', removed: true });
    expect(store.models).toEqual([]);

    list = [model('a'), child('b', 'a')];
    engine.emit('job.updated', { id: 'j', kind: 'selftest', state: 'succeeded' });
    await engine.flush();
    expect(store.models).toEqual([]);
    engine.emit('job.updated', { id: 'j', kind: 'expand', state: 'succeeded' });
    await engine.flush();
    expect(store.tree.map((r) => r.model.id)).toEqual(['a', 'b']);
    expect(store.childrenOf('a').map((m) => m.id)).toEqual(['b']);
  });

  it('hands add errors to the caller and removes without deleting files unless asked', async () => {
    const engine = fakeEngine({
      'models.add': ({ path }) => {
        if (path === '/bad') throw new DeepenError('unsupported', 'model_type "gpt2" is not supported.');
        return model('n', { path });
      },
      'models.remove': ({ id, deleteFiles }) => ({ id, filesDeleted: !!deleteFiles }),
    });
    const store = useModelsStore();
    await expect(store.add('/bad')).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/gpt2/) });
    expect(store.models).toEqual([]);
    await store.add('/good');
    expect(store.byId.n.path).toBe('/good');

    expect(await store.remove('n')).toBe(true);
    expect(engine.calls.at(-1)).toEqual({ method: 'models.remove', params: { id: 'n', deleteFiles: false } });
    expect(store.models).toEqual([]);
    expect(useNotificationsStore().items.at(-1)?.title).toBe('Model removed');
  });
});

describe('useExpandStore', () => {
  it('maps drafts to plan requests and toggles slots', () => {
    expect(defaultGroups(32)).toBe(8);
    expect(defaultGroups(8)).toBe(2);
    expect(defaultGroups(1)).toBe(1);
    expect(draftToParams('m', { strategy: 'interleaved', groups: 8, copies: 2, add: 1, insertions: [] })).toEqual({ modelId: 'm', strategy: 'interleaved', groups: 8, copies: 2 });
    expect(draftToParams('m', { strategy: 'bottom', groups: 8, copies: 1, add: 3, insertions: [] })).toEqual({ modelId: 'm', strategy: 'bottom', add: 3 });
    const one = toggleSlotInsertions([], 3);
    expect(one).toEqual([{ after: 3, source: 3 }]);
    expect(toggleSlotInsertions(one, -1)).toEqual([{ after: -1, source: 0 }, { after: 3, source: 3 }]);
    expect(toggleSlotInsertions([{ after: 3, source: 3 }, { after: 3, source: 3 }], 3)).toEqual([]);
  });

  it('plans the paper layout on select, turns slot clicks into a custom plan, and keeps only the newest answer', async () => {
    const engine = fakeEngine({ 'models.list': () => [model('a')], 'models.plan': planFor });
    await useModelsStore().load();
    const store = useExpandStore();
    await store.selectModel('a');
    expect(engine.calls.at(-1)!.params).toEqual({ modelId: 'a', strategy: 'interleaved', groups: 2, copies: 1 });
    expect(store.insertions).toEqual([{ after: 3, source: 3 }, { after: 7, source: 7 }]);

    await store.toggleSlot(3);
    expect(store.draft.strategy).toBe('custom');
    expect(store.insertions).toEqual([{ after: 7, source: 7 }]);
    await store.toggleSlot(0);
    expect(engine.calls.at(-1)!.params).toEqual({ modelId: 'a', strategy: 'custom', insertions: [{ after: 0, source: 0 }, { after: 7, source: 7 }] });
    expect(store.result?.plan.added).toBe(2);

    // Emptying every slot needs no engine call: there is nothing to plan.
    await store.toggleSlot(0);
    const n = engine.calls.length;
    await store.toggleSlot(7);
    expect(engine.calls.length).toBe(n);
    expect(store.result).toBeNull();

    // A slow answer to an older request must not overwrite a newer one.
    let release!: () => void;
    engine.handle('models.plan', (p: PlanParams) => (p.add === 1 ? new Promise((r) => (release = () => r(planFor(p)))) : planFor(p)));
    const slow = store.update({ strategy: 'top', add: 1 });
    await store.update({ strategy: 'top', add: 3 });
    release();
    await slow;
    expect(store.result?.plan.added).toBe(3);
  });

  it('shows a plan error in place and starts the job with the engine plan', async () => {
    const engine = fakeEngine({
      'models.list': () => [model('a')],
      'models.plan': (p: PlanParams) => {
        if (p.groups === 20) throw new DeepenError('bad_request', 'Cannot split 8 blocks into 20 groups.');
        return planFor(p);
      },
      'models.expand': () => ({ jobId: 'job-1' }),
      'jobs.get': () => ({ id: 'job-1', result: { modelId: 'b', preservation: { state: 'passed', maxAbsDiff: 0 } } }),
    });
    await useModelsStore().load();
    const store = useExpandStore();
    await store.selectModel('a');
    await store.update({ groups: 20 });
    expect(store.planError).toMatch(/20 groups/);
    expect(store.result).toBeNull();
    await expect(store.expand({ name: 'n', outDir: '/o' })).rejects.toThrow(/plan first/);

    await store.update({ groups: 4 });
    expect(await store.expand({ name: 'n', outDir: '/o' })).toBe('job-1');
    const sent = engine.calls.find((c) => c.method === 'models.expand')!.params;
    expect(sent).toMatchObject({ modelId: 'a', name: 'n', outDir: '/o' });
    expect(sent.plan.added).toBe(4);
    expect((await store.loadOutcome('job-1'))?.modelId).toBe('b');
    expect(store.outcome?.preservation.state).toBe('passed');
  });
});
