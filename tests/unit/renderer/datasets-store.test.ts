// The datasets store's part in search indexing after an import: it starts
// the indexing of the open dataset when asked, and when the engine says more
// records became searchable it reloads the dataset, its count and its table.
import { describe, expect, it } from 'vitest';
import type { DatasetDetail } from '../../../src/shared/contract';
import { useDatasetsStore } from '../../../src/renderer/src/stores/datasets';
import { fakeEngine } from './fake-engine';

function dataset(over: Partial<DatasetDetail> = {}): DatasetDetail {
  return {
    id: '7',
    name: 'corpus',
    kind: 'text',
    state: 'ready',
    source: '/data/corpus.jsonl',
    createdAt: 1,
    updatedAt: 1,
    records: 1000,
    characters: 50_000,
    trainRecords: 1000,
    evalRecords: 0,
    evalRatio: 0,
    splitSeed: 0,
    unindexedRecords: 600,
    lastImport: null,
    tokenizers: [],
    searchIndexJobId: null,
    ...over,
  };
}

describe('useDatasetsStore: search indexing', () => {
  it('starts indexing the rest and keeps the job; a search in force is recounted when more records become searchable', async () => {
    let current = dataset();
    let counted = 0;
    const engine = fakeEngine({
      'datasets.list': () => [current],
      'datasets.get': () => current,
      'datasets.index': () => ({ jobId: 'job-1' }),
      'datasets.count': () => ({ count: (counted += 100), capped: false }),
    });
    const store = useDatasetsStore();
    await store.open('7');
    expect(store.detail?.unindexedRecords).toBe(600);

    await store.indexForSearch();
    expect(engine.calls.find((c) => c.method === 'datasets.index')?.params).toEqual({ datasetId: '7' });
    expect(store.detail?.searchIndexJobId).toBe('job-1');

    store.setFilter({ query: 'word' });
    await engine.flush();
    expect(store.matchCount).toBe(100);
    const version = store.recordsVersion;
    current = dataset({ unindexedRecords: 0 });
    engine.emit('datasets.changed', { datasetId: '7', reason: 'indexed' });
    await engine.flush();
    await engine.flush();
    expect(store.detail?.unindexedRecords).toBe(0);
    expect(store.matchCount).toBe(200);
    expect(store.recordsVersion).toBeGreaterThan(version);
  });
});
