// Imports end to end against a real database: every format, the bad inputs
// the issue lists (each with its message), abort and cancel leaving the
// database as it was, duplicates, and splits that survive re-imports.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DeepenError } from '../../../src/shared/errors';
import { pageRecords } from '../../../src/native/data/datasets-records';
import { getDatasetRow, listDatasets } from '../../../src/native/data/datasets';
import { previewImport } from '../../../src/native/data/import/preview';
import { importFile, snapshot, world } from '../../unit/data/dataset-helpers';
import { writeParquet } from '../../unit/data/parquet-writer';

const w = world('deepen-import-');
afterAll(() => w.cleanup());

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const allRecords = (datasetId: string) => pageRecords(w.db, { datasetId, limit: 1000 }).rows;

async function expectFailure(p: Promise<unknown>, code: string, message: RegExp) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeepenError);
  expect((err as DeepenError).code).toBe(code);
  expect((err as DeepenError).message).toMatch(message);
}

describe('formats', () => {
  it('JSON Lines: text, Alpaca, prompt/response, OpenAI messages and ShareGPT', async () => {
    const text = await importFile(w, { path: w.file('t.jsonl', jsonl([{ text: 'one' }, { text: 'two' }])) });
    expect([text.kind, text.records]).toEqual(['text', 2]);
    const alpaca = await importFile(w, { path: w.file('a.jsonl', jsonl([{ instruction: 'Add', input: '1+1', output: '2' }])) });
    expect(alpaca.kind).toBe('instruction');
    const pr = await importFile(w, { path: w.file('pr.jsonl', jsonl([{ prompt: 'Q', response: 'A' }])) });
    expect(pr.mapping).toEqual({ kind: 'instruction', instruction: 'prompt', output: 'response' });
    const chat = await importFile(w, { path: w.file('m.jsonl', jsonl([{ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }] }])) });
    expect(chat.kind).toBe('chat');
    const sg = await importFile(w, { path: w.file('sg.jsonl', jsonl([{ conversations: [{ from: 'human', value: 'hi' }, { from: 'gpt', value: 'yo' }] }])) });
    expect(sg.kind).toBe('chat');
    expect(allRecords(sg.datasetId)[0].preview).toBe('hi\n\nyo');
  });

  it('JSON arrays, CSV and TSV with mappings, and an explicit field mapping', async () => {
    const arr = await importFile(w, { path: w.file('arr.json', JSON.stringify([{ question: 'q1', answer: 'a1' }, { question: 'q2', answer: 'a2' }])) });
    expect([arr.kind, arr.records]).toEqual(['instruction', 2]);
    const csv = await importFile(w, { path: w.file('c.csv', 'id,body\n1,"hello, world"\n2,"multi\nline"\n') });
    expect(csv.mapping).toEqual({ kind: 'text', text: 'body' });
    expect(allRecords(csv.datasetId).map((r) => [r.preview, r.line])).toEqual([
      ['hello, world', 2],
      ['multi\nline', 3],
    ]);
    const tsv = await importFile(w, { path: w.file('c.tsv', 'q\ta\nwhy\tbecause\n'), mapping: { kind: 'instruction', instruction: 'q', output: 'a' } });
    expect([tsv.kind, tsv.records]).toEqual(['instruction', 1]);
  });

  it('parquet, reading only the mapped columns', async () => {
    const f = w.file('p.parquet', writeParquet([{ name: 'text', type: 'string', values: ['alpha', 'béta', 'gamma'] }, { name: 'score', type: 'int32', values: [1, 2, 3] }]));
    const r = await importFile(w, { path: f });
    expect([r.format, r.kind, r.records]).toEqual(['parquet', 'text', 3]);
    expect(allRecords(r.datasetId).map((x) => [x.preview, x.line])).toEqual([
      ['alpha', 1],
      ['béta', 2],
      ['gamma', 3],
    ]);
  });

  it('.txt/.md per paragraph, per line and per file', async () => {
    const f = w.file('notes.md', '# Title\n\nPara one\ncontinues.\n\nPara two.\n');
    expect((await importFile(w, { path: f })).records).toBe(3);
    expect((await importFile(w, { path: f, textSplit: 'line' })).records).toBe(4);
    expect((await importFile(w, { path: f, textSplit: 'file' })).records).toBe(1);
  });

  it('a folder of source files by extension, each file one record with its path', async () => {
    w.file('repo/src/a.py', 'print(1)\n');
    w.file('repo/src/b.ts', 'export const b = 2;\n');
    w.file('repo/README.md', '# readme\n');
    w.file('repo/node_modules/x/index.js', 'skipped()');
    w.file('repo/.git/config', 'skipped');
    w.file('repo/bin.py', Buffer.from([0x00, 0x01, 0x02]));
    const r = await importFile(w, { path: `${w.dir}/repo`, extensions: ['py', '.ts'] });
    expect(r.records).toBe(2);
    expect(r.skippedLines).toEqual([{ file: 'bin.py', line: 1, reason: expect.stringMatching(/binary/) }]);
    expect(allRecords(r.datasetId).map((x) => x.origin)).toEqual(['src/a.py', 'src/b.ts']);
  });
});

describe('bad input', () => {
  it('invalid UTF-8: skipped with file:line, or the import aborts leaving the database unchanged', async () => {
    const f = w.file('bad-utf8.jsonl', Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n{"text":"ok2"}\n')]));
    const r = await importFile(w, { path: f });
    expect(r.records).toBe(2);
    expect(r.skippedLines).toEqual([{ file: f, line: 2, reason: expect.stringMatching(/invalid UTF-8 at byte 10/) }]);
    const before = snapshot(w.db);
    await expectFailure(importFile(w, { path: f, onError: 'abort' }), 'bad_file', new RegExp(`${f}:2: invalid UTF-8.*nothing was imported`));
    expect(snapshot(w.db)).toEqual(before);
  });

  it('a JSON line that is not an object, and a missing mapped field', async () => {
    const f = w.file('shapes.jsonl', jsonl([{ instruction: 'a', output: 'b' }, [1, 2], 'text', { instruction: 'no output' }]));
    const r = await importFile(w, { path: f });
    expect(r.records).toBe(1);
    expect(r.skippedLines.map((s) => [s.line, s.reason])).toEqual([
      [2, 'the line is an array, not a JSON object with fields'],
      [3, 'the line is a string, not a JSON object with fields'],
      [4, 'the field "output" is missing'],
    ]);
  });

  it('a CSV with ragged rows', async () => {
    const f = w.file('ragged.csv', 'text,label\nfine,1\ntoo,many,fields\nshort\n');
    const r = await importFile(w, { path: f });
    expect(r.records).toBe(1);
    expect(r.skippedLines.map((s) => s.line)).toEqual([3, 4]);
    expect(r.skippedLines[0].reason).toMatch(/3 fields but the header has 2/);
  });

  it('an empty file, a missing file, and a file with no usable fields', async () => {
    await expectFailure(importFile(w, { path: w.file('empty.jsonl', '') }), 'bad_file', /empty\.jsonl is empty: there is nothing to import/);
    await expectFailure(importFile(w, { path: `${w.dir}/nope.jsonl` }), 'not_found', /does not exist/);
    await expectFailure(importFile(w, { path: w.file('odd.jsonl', jsonl([{ a: 1, b: [2] }])) }), 'bad_request', /No fields were recognized.*\(its fields: a, b\).*--map/);
    await expectFailure(importFile(w, { path: w.file('blank.jsonl', '\n\n  \n') }), 'bad_file', /No readable records/);
    expect(listDatasets(w.db).every((d) => d.state === 'ready')).toBe(true);
  });

  it('a 100 MB single line is reported by size and skipped without being held in memory', async () => {
    const f = `${w.dir}/huge.jsonl`;
    const fd = fs.openSync(f, 'w');
    fs.writeSync(fd, '{"text":"before"}\n{"text":"');
    const block = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 100; i++) fs.writeSync(fd, block);
    fs.writeSync(fd, '"}\n{"text":"after"}\n');
    fs.closeSync(fd);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const r = await importFile(w, { path: f });
    clearInterval(timer);
    expect(r.records).toBe(2);
    expect(r.skippedLines).toEqual([{ file: f, line: 2, reason: expect.stringMatching(/the line is 100\.0 MB, longer than the 16\.0 MB limit/) }]);
    expect(peak - rss0).toBeLessThan(120 << 20);
    fs.rmSync(f);
  });

  it('parquet columns of types that are not text, and codecs that are not supported', async () => {
    const ints = w.file('ints.parquet', writeParquet([{ name: 'text', type: 'int32', values: [1, 2] }]));
    await expectFailure(importFile(w, { path: ints, mapping: { kind: 'text', text: 'text' } }), 'unsupported', /column "text" has the parquet type INT32/);
    const interval = w.file('iv.parquet', writeParquet([{ name: 'text', type: 'string', values: ['a'] }, { name: 'span', type: 'interval', values: [Buffer.alloc(12)] }]));
    await expectFailure(previewImport({ path: interval }), 'unsupported', /parquet feature Deepen cannot read \(parquet interval not supported\)/);
    expect((await importFile(w, { path: interval, mapping: { kind: 'text', text: 'text' } })).records).toBe(1); // the bad column is never decoded
    const zstd = w.file('z.parquet', writeParquet([{ name: 'text', type: 'string', values: ['a'] }], { codec: 6 }));
    await expectFailure(importFile(w, { path: zstd, mapping: { kind: 'text', text: 'text' } }), 'unsupported', /unsupported compression codec: ZSTD.*snappy/);
    await expectFailure(importFile(w, { path: w.file('fake.parquet', 'not parquet at all') }), 'bad_file', /not a readable parquet file/);
  });
});

describe('abort, cancel, duplicates, splits', () => {
  const many = (n: number, tag = '') => jsonl(Array.from({ length: n }, (_, i) => ({ text: `record ${i}${tag} ${'lorem ipsum '.repeat(20)}` })));

  it('a bad line late in a large file aborts after thousands of rows were written, and they are all removed', async () => {
    const f = w.file('late-bad.jsonl', many(20000) + '{broken\n');
    const before = snapshot(w.db);
    await expectFailure(importFile(w, { path: f, onError: 'abort' }), 'bad_file', /:20001: not valid JSON/);
    expect(snapshot(w.db)).toEqual(before);
  });

  it('cancelling part-way leaves the database as it was', async () => {
    const f = w.file('cancel.jsonl', many(30000));
    const before = snapshot(w.db);
    await expectFailure(importFile(w, { path: f }, 3), 'cancelled', /cancelled/);
    expect(snapshot(w.db)).toEqual(before);
  });

  it('counts exact duplicates after normalization, drops them on request, and finds near-duplicates with MinHash', async () => {
    const rows = [{ text: 'Hello world' }, { text: '  Hello   world ' }, { text: 'hello world' }, { text: 'Hello world' }];
    const kept = await importFile(w, { path: w.file('dups.jsonl', jsonl(rows)) });
    expect([kept.records, kept.duplicates, kept.duplicatesDropped]).toEqual([4, 2, false]);
    const dropped = await importFile(w, { path: w.file('dups2.jsonl', jsonl(rows)), dedupe: true });
    expect([dropped.records, dropped.duplicates]).toEqual([2, 2]);
    const long = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
    const near = await importFile(w, { path: w.file('near.jsonl', jsonl([{ text: long }, { text: long.replace('w150', 'changed') }, { text: 'unrelated words entirely here' }])), dedupe: true, nearDedupe: true });
    expect([near.records, near.nearDuplicates]).toEqual([2, 1]);
  });

  it('gives each record the same split on every import with the same seed', async () => {
    const f = w.file('split.jsonl', many(2000, 's'));
    const a = await importFile(w, { path: f, evalRatio: 0.2, seed: 42 });
    const b = await importFile(w, { path: f, evalRatio: 0.2, seed: 42 });
    const splits = (id: string) => pageRecords(w.db, { datasetId: id, limit: 1000 }).rows.map((r) => r.split);
    expect(splits(a.datasetId)).toEqual(splits(b.datasetId));
    const d = getDatasetRow(w.db, a.datasetId)!;
    expect(d.evalRecords / d.records).toBeGreaterThan(0.15);
    expect(d.evalRecords / d.records).toBeLessThan(0.25);
    expect(d.trainRecords + d.evalRecords).toBe(2000);
  });
});
