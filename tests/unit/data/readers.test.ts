// The streaming readers on their own: line splitting with a length cap, the
// JSON array splitter, the RFC 4180 CSV reader, strict UTF-8.
import { describe, expect, it, afterAll } from 'vitest';
import { splitLines } from '../../../src/native/data/import/line-reader';
import { readJsonFile } from '../../../src/native/data/import/json-stream';
import { readCsvFile } from '../../../src/native/data/import/csv';
import { readJsonLines, readTextFile } from '../../../src/native/data/import/text-readers';
import { firstInvalidUtf8 } from '../../../src/native/data/import/source-types';
import type { RowSink } from '../../../src/native/data/import/source-types';
import { world } from './dataset-helpers';

const w = world('deepen-readers-');
afterAll(() => w.cleanup());

function collector() {
  const rows: [unknown, number][] = [];
  const docs: [string, number][] = [];
  const problems: [number, string][] = [];
  const sink: RowSink = {
    row: (v, line) => rows.push([v, line]),
    doc: (t, line) => docs.push([t, line]),
    problem: (line, reason) => problems.push([line, reason]),
    tick: () => undefined,
  };
  return { rows, docs, problems, sink };
}

/** Feeds `text` to splitLines in chunks of `size` bytes (chunk boundaries anywhere). */
async function lines(text: string | Buffer, size: number, max = 1 << 20) {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  let pos = 0;
  const out: [string, number][] = [];
  const long: [number, number][] = [];
  const n = await splitLines(
    async (buf) => {
      const k = Math.min(size, buf.length, data.length - pos);
      data.copy(buf, 0, pos, pos + k);
      pos += k;
      return k;
    },
    max,
    { line: (b, no) => out.push([b.toString(), no]), tooLong: (no, bytes) => long.push([no, bytes]) },
  );
  return { out, long, n };
}

describe('splitLines', () => {
  it('splits at LF and CRLF across any chunk boundary, strips a BOM, and counts lines', async () => {
    for (const size of [1, 2, 3, 7, 1000]) {
      const r = await lines('\uFEFFa\r\nbb\n\nccc', size);
      expect(r.out).toEqual([
        ['a', 1],
        ['bb', 2],
        ['', 3],
        ['ccc', 4],
      ]);
      expect(r.n).toBe(4);
    }
    expect((await lines('x\n', 1)).n).toBe(1);
    expect((await lines('', 4)).n).toBe(0);
  });

  it('reports a line over the cap by its size without holding it, and goes on', async () => {
    const big = 'y'.repeat(5000);
    for (const size of [64, 4096, 100000]) {
      const r = await lines(`a\n${big}\nb\n${big}`, size, 1000);
      expect(r.out).toEqual([
        ['a', 1],
        ['b', 3],
      ]);
      expect(r.long).toEqual([
        [2, 5000],
        [4, 5000],
      ]);
    }
  });
});

describe('firstInvalidUtf8', () => {
  it('finds the first bad byte, including overlong forms and surrogates', () => {
    expect(firstInvalidUtf8(Buffer.from('héllo'))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xff, 0x62]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc3]))).toBe(1); // cut short
    expect(firstInvalidUtf8(Buffer.from([0xc0, 0x80]))).toBe(0); // overlong NUL
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a UTF-16 surrogate
  });
});

describe('JSON Lines', () => {
  it('reads objects, skips blank lines, and reports bad JSON, non-objects and invalid UTF-8 with line numbers', async () => {
    const f = w.file(
      'mixed.jsonl',
      Buffer.concat([Buffer.from('{"text":"a"}\n\n  \n[1,2]\n"str"\n{oops\n'), Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a]), Buffer.from('{"text":"b"}')]),
    );
    const c = collector();
    await readJsonLines(f, 'mixed.jsonl', { maxRecordBytes: 1 << 20 }, c.sink);
    expect(c.rows).toEqual([
      [{ text: 'a' }, 1],
      [{ text: 'b' }, 8],
    ]);
    expect(c.problems.map((p) => p[0])).toEqual([4, 5, 6, 7]);
    expect(c.problems[0][1]).toMatch(/array, not a JSON object/);
    expect(c.problems[1][1]).toMatch(/a string, not a JSON object/);
    expect(c.problems[2][1]).toMatch(/not valid JSON/);
    expect(c.problems[3][1]).toMatch(/invalid UTF-8 at byte 7/);
  });
});

describe('JSON files', () => {
  const read = async (name: string, text: string, max = 1 << 20) => {
    const c = collector();
    await readJsonFile(w.file(name, text), name, { maxRecordBytes: max }, c.sink);
    return c;
  };

  it('splits a top-level array into its elements, with the line each starts on', async () => {
    const c = await read('arr.json', '[\n {"text": "a [b] {c}", "n": [1, {"x": "]"}]},\n {"text": "esc \\" ]"}\n]\n');
    expect(c.rows).toEqual([
      [{ text: 'a [b] {c}', n: [1, { x: ']' }] }, 2],
      [{ text: 'esc " ]' }, 3],
    ]);
    expect(c.problems).toEqual([]);
  });

  it('reports scalars and too-long elements, and keeps going', async () => {
    const c = await read('bad.json', `[1, "s", {"text": "${'z'.repeat(300)}"}, {"text": "ok"}, null]`, 100);
    expect(c.rows).toEqual([[{ text: 'ok' }, 1]]);
    expect(c.problems.map((p) => p[1])).toEqual([
      expect.stringMatching(/a number, not a JSON object/),
      expect.stringMatching(/a string, not a JSON object/),
      expect.stringMatching(/longer than the/),
      expect.stringMatching(/null, not a JSON object/),
    ]);
  });

  it('reads JSON values written one after another, unwraps {"data": [...]}, and reports a cut-short file', async () => {
    expect((await read('concat.json', '{"text":"a"}\n{"text":"b"}\n')).rows.map((r) => r[0])).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect((await read('wrap.json', '{"data": [{"text":"a"}, {"text":"b"}]}')).rows.map((r) => r[0])).toEqual([{ text: 'a' }, { text: 'b' }]);
    expect((await read('single.json', '{"text": "only", "tags": ["x"]}')).rows.map((r) => r[0])).toEqual([{ text: 'only', tags: ['x'] }]);
    const cut = await read('cut.json', '[{"text":"a"}, {"text": "b');
    expect(cut.rows).toHaveLength(1);
    expect(cut.problems[0][1]).toMatch(/ends in the middle/);
  });
});

describe('CSV', () => {
  const read = async (name: string, text: string | Buffer, delimiter = ',') => {
    const c = collector();
    await readCsvFile(w.file(name, text), name, { maxRecordBytes: 1 << 20, delimiter }, c.sink);
    return c;
  };

  it('handles quoted delimiters, doubled quotes, line breaks inside quotes and CRLF', async () => {
    const c = await read('q.csv', 'prompt,response\r\n"a, b","say ""hi"""\r\n"multi\nline",plain\r\nlast,"x"');
    expect(c.rows).toEqual([
      [{ prompt: 'a, b', response: 'say "hi"' }, 2],
      [{ prompt: 'multi\nline', response: 'plain' }, 3],
      [{ prompt: 'last', response: 'x' }, 5],
    ]);
    expect(c.problems).toEqual([]);
  });

  it('reports ragged rows, an unclosed quote, text after a closing quote and invalid UTF-8', async () => {
    const bad = Buffer.concat([Buffer.from('a,b\n1,2,3\n4\n"x"y,z\n5,'), Buffer.from([0xfe]), Buffer.from('\n6,"never closed\n7,8\n')]);
    const c = await read('bad.csv', bad);
    expect(c.rows).toEqual([]);
    expect(c.problems.map((p) => p[0])).toEqual([2, 3, 4, 5, 6]);
    expect(c.problems[0][1]).toMatch(/3 fields but the header has 2/);
    expect(c.problems[1][1]).toMatch(/1 field but the header has 2/);
    expect(c.problems[2][1]).toMatch(/after the closing quote/);
    expect(c.problems[3][1]).toMatch(/invalid UTF-8 in column "b"/);
    expect(c.problems[4][1]).toMatch(/never closed/);
  });

  it('reads TSV with a tab delimiter and names empty or repeated headers', async () => {
    const c = await read('t.tsv', 'text\t\ttext\nhello world\tx\ty\n', '\t');
    expect(c.rows).toEqual([[{ text: 'hello world', column2: 'x', text_2: 'y' }, 2]]);
  });
});

describe('text files', () => {
  const text = 'First paragraph\nstill first.\n\n\nSecond.\n\nThird\n';
  it('splits per paragraph, per line or per file', async () => {
    const f = w.file('doc.md', text);
    const per = async (mode: 'paragraph' | 'line' | 'file') => {
      const c = collector();
      await readTextFile(f, 'doc.md', mode, { maxRecordBytes: 1 << 20 }, c.sink);
      return c.docs;
    };
    expect(await per('paragraph')).toEqual([
      ['First paragraph\nstill first.', 1],
      ['Second.', 5],
      ['Third', 7],
    ]);
    expect((await per('line')).map((d) => d[1])).toEqual([1, 2, 5, 7]);
    expect(await per('file')).toEqual([['First paragraph\nstill first.\n\n\nSecond.\n\nThird', 1]]);
  });

  it('skips a paragraph with invalid UTF-8 once and reports a file over the record limit', async () => {
    const f = w.file('bad.txt', Buffer.concat([Buffer.from('good\n\nbad '), Buffer.from([0xff]), Buffer.from('\nstill bad\n\nfine\n')]));
    const c = collector();
    await readTextFile(f, 'bad.txt', 'paragraph', { maxRecordBytes: 1 << 20 }, c.sink);
    expect(c.docs.map((d) => d[0])).toEqual(['good', 'fine']);
    expect(c.problems).toEqual([[3, expect.stringMatching(/invalid UTF-8/)]]);
    const big = collector();
    await readTextFile(w.file('big.txt', 'x'.repeat(3000)), 'big.txt', 'file', { maxRecordBytes: 1000 }, big.sink);
    expect(big.docs).toEqual([]);
    expect(big.problems[0][1]).toMatch(/longer than/);
  });
});
