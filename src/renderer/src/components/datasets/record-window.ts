// The arithmetic and paging behind the virtualized records table, kept out of
// the component so it can be tested without a DOM.
//
// Scrolling: a spacer gives the scrollbar its length. Browsers cap element
// heights (about 33 million px in Chromium), so past MAX_SPACER_PX the
// scroll position is mapped onto row indices proportionally instead of 1:1.
//
// Paging: rows come from the engine in pages of PAGE_SIZE. A page next to one
// already loaded is fetched with a keyset cursor (after its last id / before
// its first), which costs the same at row 900 000 as at row 0; a page far
// from anything loaded (the scrollbar was dragged) is fetched by offset.
import type { RecordFilter, RecordPage, RecordPageParams, RecordRow } from '@shared/contract';

export const PAGE_SIZE = 100;
export const MAX_SPACER_PX = 8_000_000;
const MAX_CACHED_PAGES = 60;

export interface WindowState {
  /** first row index to render */
  first: number;
  /** rows to render */
  count: number;
  /** where row `first` is drawn, in px from the top of the scrolled content */
  offsetPx: number;
  spacerPx: number;
}

/** Which rows are visible for a scroll position, with a few rows of overscan. */
export function visibleWindow(total: number, rowPx: number, viewportPx: number, scrollTop: number, overscan = 6): WindowState {
  const fullPx = total * rowPx;
  const spacerPx = Math.min(fullPx, MAX_SPACER_PX);
  const visibleRows = Math.ceil(viewportPx / rowPx) + 1;
  if (total === 0) return { first: 0, count: 0, offsetPx: 0, spacerPx: 0 };
  let exactTop: number;
  if (fullPx <= MAX_SPACER_PX) exactTop = scrollTop;
  else {
    // proportional: the last scroll position shows the last rows
    const maxScroll = Math.max(1, spacerPx - viewportPx);
    exactTop = (Math.min(scrollTop, maxScroll) / maxScroll) * Math.max(0, fullPx - viewportPx);
  }
  const topRow = Math.floor(exactTop / rowPx);
  const first = Math.max(0, topRow - overscan);
  const count = Math.min(total - first, visibleRows + overscan * 2);
  // the viewport's top (scrollTop) shows the point exactTop of the full list
  const offsetPx = scrollTop - (exactTop - first * rowPx);
  return { first, count, offsetPx, spacerPx };
}

/** The scrollTop that shows row `index` at the top. */
export function scrollTopFor(index: number, total: number, rowPx: number, viewportPx: number): number {
  const fullPx = total * rowPx;
  if (fullPx <= MAX_SPACER_PX) return index * rowPx;
  const maxScroll = Math.max(1, MAX_SPACER_PX - viewportPx);
  return ((index * rowPx) / Math.max(1, fullPx - viewportPx)) * maxScroll;
}

export type FetchPage = (params: RecordPageParams) => Promise<RecordPage>;

/** A cache of pages for one dataset + filter; a new filter means a new cache. */
export class RecordPages {
  private readonly pages = new Map<number, RecordRow[]>();
  private readonly inflight = new Map<number, Promise<void>>();
  /** bumped when a page arrives, so a reactive wrapper can re-render */
  version = 0;

  constructor(
    private readonly datasetId: string,
    private readonly filter: RecordFilter,
    private readonly fetchPage: FetchPage,
    private readonly onChange: () => void = () => undefined,
  ) {}

  row(index: number): RecordRow | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  has(page: number): boolean {
    return this.pages.has(page);
  }

  /** Loads every page overlapping rows [first, first + count). */
  ensure(first: number, count: number): Promise<void[]> {
    const from = Math.floor(first / PAGE_SIZE);
    const to = Math.floor(Math.max(first, first + count - 1) / PAGE_SIZE);
    const loads: Promise<void>[] = [];
    for (let p = from; p <= to; p++) loads.push(this.load(p));
    return Promise.all(loads);
  }

  /** How a page will be asked for: a keyset cursor next to a loaded page, else an offset. */
  paramsFor(page: number): RecordPageParams {
    const base = { datasetId: this.datasetId, filter: this.filter, limit: PAGE_SIZE };
    const prev = this.pages.get(page - 1);
    if (prev?.length === PAGE_SIZE) return { ...base, after: prev[prev.length - 1].id };
    const next = this.pages.get(page + 1);
    if (next?.length) return { ...base, before: next[0].id };
    return { ...base, offset: page * PAGE_SIZE };
  }

  load(page: number): Promise<void> {
    if (page < 0 || this.pages.has(page)) return Promise.resolve();
    const running = this.inflight.get(page);
    if (running) return running;
    const p = this.fetchPage(this.paramsFor(page))
      .then((res) => {
        this.pages.set(page, res.rows);
        this.evict(page);
        this.version++;
        this.onChange();
      })
      .finally(() => this.inflight.delete(page));
    this.inflight.set(page, p);
    return p;
  }

  /** Replaces one row in place (after an edit) without refetching. */
  replace(row: RecordRow): void {
    for (const rows of this.pages.values()) {
      const i = rows.findIndex((r) => r.id === row.id);
      if (i >= 0) {
        rows[i] = row;
        this.version++;
        this.onChange();
        return;
      }
    }
  }

  /** Keeps the pages nearest the one just loaded. */
  private evict(center: number): void {
    if (this.pages.size <= MAX_CACHED_PAGES) return;
    const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    for (const p of far.slice(0, this.pages.size - MAX_CACHED_PAGES)) this.pages.delete(p);
  }
}
