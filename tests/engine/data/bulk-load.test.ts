// The bulk-load design of imports: records committed first with their length
// and hash tables, read in a thread of their own for large files, and the
// search index built after by its own step. Each path must give the same
// database as the plain one, and the side tables must follow every later
// edit, re-split and delete.
import { afterAll, describe, expect, it } from 'vitest';
import { countRecords, deleteRecord, getRecord, pageRecords, updateRecord } from '../../../src/native/data/datasets-records';
import { datasetStats } from '../../../src/native/data/datasets-stats';
import { deleteDatasetNow, deleteWhere, resplit } from '../../../src/native/data/datasets-ops';
import { createPendingDataset, getDatasetRow } from '../../../src/native/data/datasets';
import { toStored } from '../../../src/native/data/datasets-content';
import { RecordWriter } from '../../../src/native/data/datasets-writer';
import { RecordBatchBuilder } from '../../../src/native/data/import/record-batch';
import { datasetsToIndex, indexForSearch, indexSearchChunk } from '../../../src/native/data/datasets-search-index';
import { HashIdList } from '../../../src/native/data/import/hashes';
import { rejectionOf, thrownBy } from '../../expect-error';
import { importFile, sideTables, testContext, world } from '../../unit/data/dataset-helpers';

const w = world('deepen-bulk-');
afterAll(() => w.cleanup());

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
// duplicates, non-ASCII (2-, 3- and 4-byte UTF-8), whitespace that normalizes away, lengths that repeat
const corpus = (n: number) =>
  jsonl(
    Array.from({ length: n }, (_, i) => ({
      text: i % 7 === 0 ? `duplicate ${i % 3}` : `récord ${i} 日本 🙂 ${'word '.repeat(i % 40)}${i % 11 === 0 ? '  \t ' : ''}`,
    })),
  );
const rows = (datasetId: string) =>
  w.db.prepare(`SELECT text, data, hex(hash) AS hash, split, chars, line, origin, typeof(text) AS t FROM dataset_records WHERE dataset_id = ? ORDER BY id`).all(datasetId);

describe('importing in a reader thread', () => {
  it('gives the same records, lengths, hashes and report as reading in the writer thread', async () => {
    const f = w.file('same.jsonl', corpus(9000));
    const plain = await importFile(w, { path: f, evalRatio: 0.3, seed: 5 }, Infinity, { readerThread: false });
    const threaded = await importFile(w, { path: f, evalRatio: 0.3, seed: 5 }, Infinity, { readerThread: true });
    const bySql = await importFile(w, { path: f, evalRatio: 0.3, seed: 5 }, Infinity, { readerThread: true, hashesInMemory: 0 });
    const strip = (r: typeof plain) => ({ ...r, datasetId: '', name: '', ms: 0 });
    expect(strip(threaded)).toEqual(strip(plain));
    expect(strip(bySql)).toEqual(strip(plain));
    expect(plain).toMatchObject({ records: 9000, duplicates: 1286 - 3 });
    const reference = rows(plain.datasetId);
    expect(reference[1]).toMatchObject({ t: 'text', text: 'récord 1 日本 🙂 word ', chars: 'récord 1 日本 🙂 word '.length });
    expect(rows(threaded.datasetId)).toEqual(reference);
    expect(rows(bySql.datasetId)).toEqual(reference);
    for (const d of [plain, threaded, bySql]) {
      const t = sideTables(w.db, d.datasetId);
      expect(t.lengths).toEqual(t.expectedLengths);
      expect(t.hashes).toEqual(t.expectedHashes);
      expect(datasetStats(w.db, { datasetId: d.datasetId }).duplicates).toBe(1283);
    }
  });

  it('keeps instruction and chat data, and folder paths, through the thread', async () => {
    const f = w.file('chat.jsonl', jsonl(Array.from({ length: 50 }, (_, i) => ({ messages: [{ role: 'user', content: `q ${i} ü` }, { role: 'assistant', content: `a ${i}` }] }))));
    const a = await importFile(w, { path: f }, Infinity, { readerThread: false });
    const b = await importFile(w, { path: f }, Infinity, { readerThread: true });
    expect(rows(b.datasetId)).toEqual(rows(a.datasetId));
    expect(getRecord(w.db, pageRecords(w.db, { datasetId: b.datasetId, limit: 1 }).rows[0].id).content).toEqual({
      kind: 'chat',
      messages: [
        { role: 'user', content: 'q 0 ü' },
        { role: 'assistant', content: 'a 0' },
      ],
    });
    w.file('src/x.py', 'print(1)\n');
    w.file('src/sub/y.py', 'print(2)\n');
    const folder = await importFile(w, { path: `${w.dir}/src`, extensions: ['.py'] }, Infinity, { readerThread: true });
    expect(rows(folder.datasetId).map((r) => (r as { origin: string }).origin).sort()).toEqual(['sub/y.py', 'x.py']);
  });

  it('an abort in the reader names the file and line, and a cancel leaves the database as it was', async () => {
    const before = w.db.prepare(`SELECT count(*) AS n FROM dataset_records`).get();
    const bad = w.file('bad.jsonl', corpus(6000) + 'not json\n');
    const err = await rejectionOf(importFile(w, { path: bad, onError: 'abort' }, Infinity, { readerThread: true }));
    expect(err).toMatchObject({ code: 'bad_file', message: expect.stringMatching(/bad\.jsonl:6001: not valid JSON/) });
    const cancelled = await rejectionOf(importFile(w, { path: w.file('big.jsonl', corpus(40000)) }, 2, { readerThread: true }));
    expect(cancelled).toMatchObject({ code: 'cancelled' });
    expect(w.db.prepare(`SELECT count(*) AS n FROM dataset_records`).get()).toEqual(before);
    expect(w.db.prepare(`SELECT count(*) AS n FROM datasets WHERE state != 'ready'`).get()).toEqual({ n: 0 });
  });
});

describe('search indexed after the import', () => {
  it('is empty until indexed; edits before and after indexing are searchable once, with their new text', async () => {
    const f = w.file('late.jsonl', jsonl(Array.from({ length: 3000 }, (_, i) => ({ text: `item ${i} ${i % 2 ? 'odd' : 'even'}` }))));
    const r = await importFile(w, { path: f }, Infinity, { search: false });
    const id = r.datasetId;
    expect(getDatasetRow(w.db, id)).toMatchObject({ records: 3000, unindexedRecords: 3000 });
    expect(datasetsToIndex(w.db)).toContain(id);
    expect(countRecords(w.db, id, { query: 'odd' })).toBe(0);
    // browsing, filters and statistics do not wait for the index
    expect(countRecords(w.db, id, { split: 'train' })).toBe(3000);
    expect(datasetStats(w.db, { datasetId: id }).records).toBe(3000);

    const [first, second, third] = pageRecords(w.db, { datasetId: id, limit: 3 }).rows;
    updateRecord(w.db, first.id, { content: { kind: 'text', text: 'zebra before indexing' } });
    deleteRecord(w.db, third.id); // a record deleted before it was indexed is no longer waiting
    expect(getDatasetRow(w.db, id)).toMatchObject({ records: 2999, unindexedRecords: 2999 });
    // one chunk, then the rest: a cancelled job's progress is kept
    expect(indexSearchChunk(w.db, id, 1000)).toBe(1000);
    expect(getDatasetRow(w.db, id)!.unindexedRecords).toBe(1999);
    expect(countRecords(w.db, id, { query: 'zebra' })).toBe(1);
    expect(thrownBy(() => indexForSearch(w.db, id, testContext(0).ctx, { chunkRows: 500 })).code).toBe('cancelled');
    expect(getDatasetRow(w.db, id)!.unindexedRecords).toBe(1499);
    expect(indexForSearch(w.db, id, testContext().ctx).indexed).toBe(1499);
    expect(getDatasetRow(w.db, id)!.unindexedRecords).toBe(0);
    expect(datasetsToIndex(w.db)).not.toContain(id);
    expect(indexForSearch(w.db, id, testContext().ctx)).toEqual({ indexed: 0 });

    updateRecord(w.db, second.id, { content: { kind: 'text', text: 'zebra after indexing' } });
    expect(countRecords(w.db, id, { query: 'zebra' })).toBe(2);
    expect(countRecords(w.db, id, { query: 'odd' })).toBe(1499); // record 1 was odd and is now a zebra
    expect(countRecords(w.db, id, { query: 'even' })).toBe(1498); // record 0 too, and record 2 is deleted
    expect(w.db.prepare(`SELECT count(*) AS n FROM dataset_records_fts WHERE dataset_records_fts MATCH 'item'`).get()).toEqual({ n: 2997 });
  });

  it('a dataset deleted while it is indexed stops the indexing', async () => {
    const r = await importFile(w, { path: w.file('gone.jsonl', corpus(500)) }, Infinity, { search: false });
    await deleteDatasetNow(w.db, r.datasetId, testContext().ctx);
    expect(indexSearchChunk(w.db, r.datasetId, 100)).toBe(0);
    expect(indexForSearch(w.db, r.datasetId, testContext().ctx)).toEqual({ indexed: 0 });
  });
});

describe('length and hash tables', () => {
  it('follow edits, re-splits, single and filtered deletes; statistics read them', async () => {
    const r = await importFile(w, { path: w.file('side.jsonl', corpus(4000)), evalRatio: 0.1, seed: 1 });
    const id = r.datasetId;
    const check = () => {
      const t = sideTables(w.db, id);
      expect(t.lengths).toEqual(t.expectedLengths);
      expect(t.hashes).toEqual(t.expectedHashes);
      const stats = datasetStats(w.db, { datasetId: id, seqLen: 4 });
      const all = w.db.prepare(`SELECT chars FROM dataset_records WHERE dataset_id = ? ORDER BY chars`).pluck().all(id) as number[];
      const distinct = (w.db.prepare(`SELECT count(DISTINCT hash) FROM dataset_records WHERE dataset_id = ?`).pluck().get(id) as number) ?? 0;
      expect(stats).toMatchObject({
        records: all.length,
        characters: all.reduce((a, b) => a + b, 0),
        minChars: all[0],
        maxChars: all[all.length - 1],
        medianChars: all[Math.floor((all.length - 1) / 2)],
        duplicates: all.length - distinct,
        overSeqLen: { count: all.filter((c) => c > 16).length, exact: false },
      });
      expect(stats.histogram.bins.reduce((a, b) => a + b.count, 0)).toBe(all.length);
      expect(countRecords(w.db, id, { minChars: 20, maxChars: 40, split: 'eval' })).toBe(
        w.db.prepare(`SELECT count(*) FROM dataset_records WHERE dataset_id = ? AND chars BETWEEN 20 AND 40 AND split = 'eval'`).pluck().get(id),
      );
    };
    check();
    const [a, b, c] = pageRecords(w.db, { datasetId: id, limit: 3 }).rows;
    updateRecord(w.db, a.id, { content: { kind: 'text', text: 'a much longer text than it was before, to move its length' } });
    updateRecord(w.db, b.id, { split: b.split === 'train' ? 'eval' : 'train' });
    updateRecord(w.db, c.id, { content: { kind: 'text', text: 'duplicate 0' } });
    check();
    deleteRecord(w.db, a.id);
    await resplit(w.db, id, 0.5, 7, testContext().ctx);
    check();
    await deleteWhere(w.db, id, { maxChars: 30 }, testContext().ctx);
    check();
    expect(getDatasetRow(w.db, id)!.records).toBe(datasetStats(w.db, { datasetId: id }).records);
    await deleteDatasetNow(w.db, id, testContext().ctx);
    expect(w.db.prepare(`SELECT count(*) AS n FROM dataset_lengths WHERE dataset_id = ?`).get(id)).toEqual({ n: 0 });
    expect(w.db.prepare(`SELECT count(*) AS n FROM dataset_hashes WHERE dataset_id = ?`).get(id)).toEqual({ n: 0 });
  });
});

describe('RecordWriter', () => {
  it('sorts the hash table in memory with the ids its inserts got, or by SQLite past its limit: the same table', () => {
    const make = (hashesInMemory?: number) => {
      const id = createPendingDataset(w.db, { name: `writer-${hashesInMemory}`, kind: 'text', source: 'x', jobId: null, evalRatio: 0, seed: 0, now: 1 });
      const writer = new RecordWriter(w.db, id, { hashesInMemory });
      for (let round = 0; round < 3; round++) {
        const b = new RecordBatchBuilder();
        // 64-row statements and single-row ones, and hashes that repeat
        for (let i = 0; i < 150; i++) b.add(toStored({ kind: 'text', text: `t ${(round * 150 + i) % 97} ü` }), 'train', i, null);
        writer.write(b.take(0));
      }
      return { id, way: writer.finish() };
    };
    const memory = make();
    const sqlite = make(10);
    expect([memory.way, sqlite.way]).toEqual(['memory', 'sqlite']);
    for (const { id } of [memory, sqlite]) {
      const t = sideTables(w.db, id);
      expect(t.hashes).toHaveLength(450);
      expect(t.hashes).toEqual(t.expectedHashes);
    }
  });
});

describe('HashIdList', () => {
  it('sorts (hash, id) pairs in byte order, ties by id, like the table key', () => {
    const list = new HashIdList(1000);
    const pairs: [Buffer, number][] = [];
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let id = 1; id <= 800; id++) {
      const h = Buffer.alloc(8);
      // few distinct first bytes and repeats, so every digit and the ties matter
      if (id % 5 === 0) pairs[id - 10 >= 0 ? id - 10 : 0]?.[0].copy(h);
      else for (let k = 0; k < 8; k++) h[k] = next() & (k < 2 ? 0x03 : 0xff);
      pairs.push([h, id]);
      list.add(h, id);
    }
    const expected = [...pairs].sort((x, y) => Buffer.compare(x[0], y[0]) || x[1] - y[1]).map(([h, id]) => `${h.toString('hex')}:${id}`);
    const order = list.sortedOrder();
    expect(Array.from(order, (p) => `${Buffer.from(list.hashAt(p)).toString('hex')}:${list.idAt(p)}`)).toEqual(expected);
  });

  it('stops keeping pairs past its limit', () => {
    const list = new HashIdList(2);
    list.add(new Uint8Array(8), 1);
    list.add(new Uint8Array(8), 2);
    expect(list.complete).toBe(true);
    list.add(new Uint8Array(8), 3);
    expect(list.complete).toBe(false);
  });
});
