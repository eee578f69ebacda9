// Collections of the 8-byte content hashes an import produces, in typed
// arrays (no object per record): the set that finds exact duplicates while
// reading, and the (hash, record id) list the writer sorts into the
// dataset's hash table at the end.

/**
 * An exact set of 64-bit hashes in two typed arrays (open addressing, linear
 * probing, grown at half full): 16 bytes a record, so a 1 GB file of a
 * couple of million records needs about 32 MB, and no object per entry.
 */
export class HashSet64 {
  private hi = new Uint32Array(1 << 16);
  private lo = new Uint32Array(1 << 16);
  private used = new Uint8Array(1 << 16);
  size = 0;

  private slot(h: number, l: number): number {
    const mask = this.used.length - 1;
    let i = (Math.imul(l ^ (h >>> 7), 0x9e3779b1) >>> 0) & mask;
    while (this.used[i] && (this.hi[i] !== h || this.lo[i] !== l)) i = (i + 1) & mask;
    return i;
  }

  has(hash: Uint8Array): boolean {
    const v = new DataView(hash.buffer, hash.byteOffset, 8);
    return this.used[this.slot(v.getUint32(0, true), v.getUint32(4, true))] === 1;
  }

  add(hash: Uint8Array): void {
    const v = new DataView(hash.buffer, hash.byteOffset, 8);
    this.put(v.getUint32(4, true), v.getUint32(0, true));
  }

  private put(l: number, h: number): void {
    const i = this.slot(h, l);
    if (this.used[i]) return;
    this.used[i] = 1;
    this.hi[i] = h;
    this.lo[i] = l;
    if (++this.size * 2 > this.used.length) this.grow();
  }

  private grow(): void {
    const { hi, lo, used } = this;
    this.hi = new Uint32Array(used.length * 2);
    this.lo = new Uint32Array(used.length * 2);
    this.used = new Uint8Array(used.length * 2);
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i]) this.put(lo[i], hi[i]);
  }
}

/**
 * (hash, record id) pairs in the order records were written, sorted at the
 * end by hash bytes then id (the order of dataset_hashes' primary key) with
 * a stable LSD radix sort on 16-bit digits: four passes, no comparisons.
 * 16 bytes a record; the writer falls back to SQL's sorter past `limit`.
 */
export class HashIdList {
  private hash = new Uint8Array(8 * 4096);
  private id = new Float64Array(4096);
  size = 0;

  constructor(readonly limit: number) {}

  /** Whether the list took every pair so far (false once `limit` was passed: the list is dropped). */
  get complete(): boolean {
    return this.size <= this.limit;
  }

  /** Keeps the 8 hash bytes at `bytes[at…]` with `id` (an offset, so a batch's hashes need no view each). */
  add(bytes: Uint8Array, id: number, at = 0): void {
    if (this.size >= this.limit) {
      // too many for memory: stop keeping them
      this.size = this.limit + 1;
      this.hash = new Uint8Array(0);
      this.id = new Float64Array(0);
      return;
    }
    if (this.size === this.id.length) {
      const h = new Uint8Array(this.hash.length * 2);
      h.set(this.hash);
      this.hash = h;
      const d = new Float64Array(this.id.length * 2);
      d.set(this.id);
      this.id = d;
    }
    const to = this.size * 8;
    for (let k = 0; k < 8; k++) this.hash[to + k] = bytes[at + k];
    this.id[this.size++] = id;
  }

  /** Positions in sorted order (memcmp order of the hashes, then id; pairs are added in id order). */
  sortedOrder(): Uint32Array {
    const n = this.size;
    let order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    let next = new Uint32Array(n);
    const counts = new Uint32Array(65537);
    const h = this.hash;
    // least significant digit first: bytes 6-7, 4-5, 2-3, 0-1
    for (let at = 6; at >= 0; at -= 2) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[((h[i * 8 + at] << 8) | h[i * 8 + at + 1]) + 1]++;
      for (let d = 1; d <= 65536; d++) counts[d] += counts[d - 1];
      for (let i = 0; i < n; i++) {
        const p = order[i];
        next[counts[(h[p * 8 + at] << 8) | h[p * 8 + at + 1]]++] = p;
      }
      [order, next] = [next, order];
    }
    return order;
  }

  hashAt(p: number): Uint8Array {
    return this.hash.subarray(p * 8, p * 8 + 8);
  }

  idAt(p: number): number {
    return this.id[p];
  }
}
