// Browsing and editing a dataset: keyset and offset paging, full-text search
// kept in sync with edits and deletes, filters, statistics, filtered deletes,
// re-splitting and the export round trip.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRecords, deleteRecord, getRecord, pageRecords, updateRecord } from '../../../src/native/data/datasets-records';
import { datasetStats } from '../../../src/native/data/datasets-stats';
import { deleteDatasetNow, deleteWhere, exportJsonl, resplit } from '../../../src/native/data/datasets-ops';
import { getDatasetRow, listDatasets, markDatasetDeleting } from '../../../src/native/data/datasets';
import { importFile, testContext, world } from '../../unit/data/dataset-helpers';

const w = world('deepen-records-');
afterAll(() => w.cleanup());
let id = '';
const N = 3000;
const fruit = (i: number) => (i % 10 === 0 ? 'apple' : i % 10 === 1 ? 'banana split' : 'cherry');

beforeAll(async () => {
  const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ text: `Doc ${i}: ${fruit(i)} ${'x'.repeat(i % 500)}` }));
  id = (await importFile(w, { path: w.file('docs.jsonl', lines.join('\n')), name: 'docs' })).datasetId;
});

describe('paging', () => {
  it('walks the whole dataset forward and backward with keyset cursors, and jumps with offsets', () => {
    const seen: number[] = [];
    let after: number | undefined;
    for (;;) {
      const page = pageRecords(w.db, { datasetId: id, after, limit: 700 });
      seen.push(...page.rows.map((r) => r.id));
      if (!page.hasMore) break;
      after = page.rows.at(-1)!.id;
    }
    expect(seen).toHaveLength(N);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const back = pageRecords(w.db, { datasetId: id, before: seen[1500], limit: 100 });
    expect(back.rows.map((r) => r.id)).toEqual(seen.slice(1400, 1500));
    expect(pageRecords(w.db, { datasetId: id, offset: 2500, limit: 3 }).rows.map((r) => r.id)).toEqual(seen.slice(2500, 2503));
    expect(pageRecords(w.db, { datasetId: id, offset: N - 2, limit: 5 })).toMatchObject({ hasMore: false });
  });
});

describe('search and filters', () => {
  it('finds words and phrases, pages through matches, and combines with length filters', () => {
    expect(countRecords(w.db, id, { query: 'apple' })).toBe(N / 10);
    expect(countRecords(w.db, id, { query: '"banana split"' })).toBe(N / 10);
    expect(countRecords(w.db, id, { query: 'split banana' })).toBe(N / 10);
    expect(countRecords(w.db, id, { query: 'ban*' })).toBe(N / 10);
    expect(countRecords(w.db, id, { query: 'apple banana' })).toBe(0);
    const first = pageRecords(w.db, { datasetId: id, filter: { query: 'apple' }, limit: 50 });
    const second = pageRecords(w.db, { datasetId: id, filter: { query: 'apple' }, after: first.rows.at(-1)!.id, limit: 50 });
    expect(second.rows[0].id).toBeGreaterThan(first.rows.at(-1)!.id);
    expect(second.rows.every((r) => r.preview.includes('apple'))).toBe(true);
    const long = countRecords(w.db, id, { query: 'apple', minChars: 400 });
    expect(long).toBeGreaterThan(0);
    expect(long).toBeLessThan(N / 10);
    expect(countRecords(w.db, id, { maxChars: 20 })).toBeGreaterThan(0);
    expect(countRecords(w.db, id, { query: '!!! ***' })).toBe(0);
    expect(countRecords(w.db, id, { query: 'AND OR NOT "(' })).toBe(0); // FTS syntax in user input is just text
  });

  it('keeps the index in sync when a record is edited or deleted', () => {
    const target = pageRecords(w.db, { datasetId: id, filter: { query: 'apple' }, limit: 1 }).rows[0];
    const before = getDatasetRow(w.db, id)!;
    const edited = updateRecord(w.db, target.id, { content: { kind: 'text', text: 'now about durian' }, split: 'eval' });
    expect(edited.text).toBe('now about durian');
    expect(edited.datasetId).toBe(id);
    expect(countRecords(w.db, id, { query: 'durian' })).toBe(1);
    expect(countRecords(w.db, id, { query: 'apple' })).toBe(N / 10 - 1);
    const after = getDatasetRow(w.db, id)!;
    expect(after.characters - before.characters).toBe(edited.chars - target.chars);
    expect([after.evalRecords, after.trainRecords]).toEqual([before.evalRecords + 1, before.trainRecords - 1]);
    deleteRecord(w.db, target.id);
    expect(countRecords(w.db, id, { query: 'durian' })).toBe(0);
    expect(() => getRecord(w.db, target.id)).toThrow(/No record with id/);
    expect(getDatasetRow(w.db, id)!.records).toBe(N - 1);
    w.db.exec(`INSERT INTO dataset_records_fts(dataset_records_fts) VALUES ('integrity-check')`);
  });
});

describe('statistics', () => {
  it('counts records and characters, bins lengths and estimates records over a sequence length', () => {
    const s = datasetStats(w.db, { datasetId: id, seqLen: 100 });
    const d = getDatasetRow(w.db, id)!;
    expect([s.records, s.characters]).toEqual([d.records, d.characters]);
    expect(s.histogram.unit).toBe('chars');
    expect(s.histogram.bins.reduce((a, b) => a + b.count, 0)).toBe(s.records);
    expect(s.minChars).toBeLessThanOrEqual(s.medianChars);
    expect(s.medianChars).toBeLessThanOrEqual(s.maxChars);
    expect(s.overSeqLen).toEqual({ count: countRecords(w.db, id, { minChars: 401 }), exact: false });
  });
});

describe('bulk operations', () => {
  it('re-splits by ratio and seed, reproducibly', async () => {
    const a = await resplit(w.db, id, 0.1, 5, testContext().ctx);
    expect(a.eval).toBeGreaterThan(200);
    expect(a.eval).toBeLessThan(400);
    const splits = () => pageRecords(w.db, { datasetId: id, limit: 1000 }).rows.map((r) => r.split).join('');
    const first = splits();
    await resplit(w.db, id, 0.5, 9, testContext().ctx);
    await resplit(w.db, id, 0.1, 5, testContext().ctx);
    expect(splits()).toBe(first);
    expect(getDatasetRow(w.db, id)).toMatchObject({ evalRatio: 0.1, splitSeed: 5 });
  });

  it('exports to JSON Lines atomically, and the export imports back to the same records', async () => {
    const out = `${w.dir}/export.jsonl`;
    const r = await exportJsonl(w.db, id, out, { query: 'cherry' }, testContext().ctx);
    expect(r.records).toBe(countRecords(w.db, id, { query: 'cherry' }));
    expect(fs.readdirSync(w.dir).filter((f) => f.includes('.partial-'))).toEqual([]);
    const back = await importFile(w, { path: out, name: 'roundtrip' });
    const texts = (ds: string, filter = {}) => {
      const rows: string[] = [];
      let after: number | undefined;
      for (;;) {
        const p = pageRecords(w.db, { datasetId: ds, filter, after, limit: 1000 });
        rows.push(...p.rows.map((x) => getRecord(w.db, x.id).text));
        if (!p.hasMore) return rows;
        after = p.rows.at(-1)!.id;
      }
    };
    expect(texts(back.datasetId)).toEqual(texts(id, { query: 'cherry' }));
    for (const kind of ['instruction', 'chat'] as const) {
      const rows = kind === 'instruction' ? [{ instruction: 'i', input: 'x', output: 'o', system: 's' }] : [{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }];
      const src = await importFile(w, { path: w.file(`${kind}.jsonl`, rows.map((x) => JSON.stringify(x)).join('\n')), name: `${kind}-src` });
      await exportJsonl(w.db, src.datasetId, `${w.dir}/${kind}-out.jsonl`, undefined, testContext().ctx);
      const again = await importFile(w, { path: `${w.dir}/${kind}-out.jsonl`, name: `${kind}-again` });
      const one = (ds: string) => getRecord(w.db, pageRecords(w.db, { datasetId: ds }).rows[0].id).content;
      expect(one(again.datasetId)).toEqual(one(src.datasetId));
    }
  });

  it('an export into a missing folder fails without leaving files', async () => {
    await expect(exportJsonl(w.db, id, `${w.dir}/no/such/dir/x.jsonl`, undefined, testContext().ctx)).rejects.toThrow(/does not exist/);
  });

  it('deletes by filter in batches, keeping counts right', async () => {
    const n = countRecords(w.db, id, { query: 'banana' });
    const before = getDatasetRow(w.db, id)!.records;
    expect((await deleteWhere(w.db, id, { query: 'banana' }, testContext().ctx)).deleted).toBe(n);
    expect(countRecords(w.db, id, { query: 'banana' })).toBe(0);
    expect(getDatasetRow(w.db, id)!.records).toBe(before - n);
    await expect(deleteWhere(w.db, id, {}, testContext().ctx)).rejects.toThrow(/at least one criterion/);
  });

  it('deletes a whole dataset: hidden at once, rows removed in batches, search index emptied', async () => {
    markDatasetDeleting(w.db, id, null);
    expect(listDatasets(w.db).find((d) => d.id === id)).toBeUndefined();
    expect(() => pageRecords(w.db, { datasetId: id })).not.toThrow();
    await deleteDatasetNow(w.db, id, testContext().ctx);
    expect(getDatasetRow(w.db, id)).toBeNull();
    expect((w.db.prepare(`SELECT count(*) AS n FROM dataset_records WHERE dataset_id = ?`).get(id) as { n: number }).n).toBe(0);
    w.db.exec(`INSERT INTO dataset_records_fts(dataset_records_fts) VALUES ('integrity-check')`);
  });
});
