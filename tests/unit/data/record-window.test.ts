// The virtualized records table's arithmetic and paging (renderer code with
// no DOM): which rows are drawn for a scroll position, including past the
// browsers' element-height cap, and how pages are asked of the engine.
import { describe, expect, it } from 'vitest';
import { MAX_SPACER_PX, PAGE_SIZE, RecordPages, scrollTopFor, visibleWindow } from '../../../src/renderer/src/components/datasets/record-window';
import type { RecordPageParams, RecordRow } from '../../../src/shared/contract/datasets';

describe('visibleWindow', () => {
  it('maps scrollTop 1:1 to rows for small lists, with overscan', () => {
    const w = visibleWindow(1000, 34, 340, 34 * 100, 5);
    expect(w.first).toBe(95);
    expect(w.count).toBe(11 + 10);
    expect(w.offsetPx).toBe(95 * 34);
    expect(w.spacerPx).toBe(34_000);
    expect(visibleWindow(0, 34, 340, 0)).toEqual({ first: 0, count: 0, offsetPx: 0, spacerPx: 0 });
  });

  it('caps the spacer for a million rows and still reaches the first and the last row', () => {
    const total = 1_000_000;
    const top = visibleWindow(total, 34, 500, 0, 0);
    expect(top.spacerPx).toBe(MAX_SPACER_PX);
    expect(top.first).toBe(0);
    const bottom = visibleWindow(total, 34, 500, MAX_SPACER_PX - 500, 0);
    expect(bottom.first + bottom.count).toBe(total);
    // the drawn rows stay inside the viewport's band of the spacer
    expect(bottom.offsetPx).toBeLessThanOrEqual(MAX_SPACER_PX);
    const mid = visibleWindow(total, 34, 500, scrollTopFor(600_000, total, 34, 500), 0);
    expect(Math.abs(mid.first - 600_000)).toBeLessThanOrEqual(1);
  });
});

describe('RecordPages', () => {
  const rowsFrom = (start: number, n: number): RecordRow[] => Array.from({ length: n }, (_, i) => ({ id: (start + i) * 2, split: 'train', chars: 1, preview: '', line: null, origin: null }));
  function fakeEngine() {
    const asked: RecordPageParams[] = [];
    const fetch = async (p: RecordPageParams) => {
      asked.push(p);
      const start = p.after !== undefined ? p.after / 2 + 1 : p.before !== undefined ? p.before / 2 - PAGE_SIZE : p.offset!;
      return { rows: rowsFrom(start, PAGE_SIZE), hasMore: true };
    };
    return { asked, fetch };
  }

  it('jumps by offset, then pages next to loaded pages by keyset in both directions', async () => {
    const e = fakeEngine();
    const pages = new RecordPages('1', {}, e.fetch);
    await pages.ensure(50_000, 30);
    expect(e.asked.at(-1)).toMatchObject({ offset: 50_000 });
    await pages.load(501);
    expect(e.asked.at(-1)).toMatchObject({ after: pages.row(50_099)!.id });
    await pages.load(499);
    expect(e.asked.at(-1)).toMatchObject({ before: pages.row(50_000)!.id });
    expect(pages.row(49_950)!.id).toBe(49_950 * 2);
    expect(pages.row(50_150)!.id).toBe(50_150 * 2);
  });

  it('asks once for a page requested twice at the same time, and replaces an edited row in place', async () => {
    const e = fakeEngine();
    let changes = 0;
    const pages = new RecordPages('1', { query: 'x' }, e.fetch, () => changes++);
    await Promise.all([pages.load(3), pages.load(3)]);
    expect(e.asked).toHaveLength(1);
    expect(e.asked[0].filter).toEqual({ query: 'x' });
    pages.replace({ ...pages.row(300)!, preview: 'edited' });
    expect(pages.row(300)!.preview).toBe('edited');
    expect(changes).toBe(2);
  });
});
