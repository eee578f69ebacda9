// Near-duplicate detection: MinHash signatures over word 5-gram shingles,
// with locality-sensitive hashing (16 bands of 4 rows) to find candidates and
// the signatures' agreement to confirm them (it estimates Jaccard
// similarity). Buckets and signatures live in TEMP tables of the import's own
// connection, so memory stays bounded however many records there are.
import type { Db } from '../db';
import type { Statement } from 'better-sqlite3';

const PERMS = 64;
const BANDS = 16;
const ROWS = PERMS / BANDS;
const SHINGLE = 5;
const MAX_CANDIDATES = 32;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The MinHash signature of a text: PERMS minima of hash functions h_k = h1 + k·h2 over its shingles. */
export function minhashSignature(text: string): Uint32Array {
  const words = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const sig = new Uint32Array(PERMS).fill(0xffffffff);
  const count = Math.max(1, words.length - SHINGLE + 1);
  for (let i = 0; i < count; i++) {
    const h = fnv1a(words.slice(i, i + SHINGLE).join(' '));
    const h1 = mix(h);
    const h2 = mix(h ^ 0x5bd1e995) | 1;
    for (let k = 0; k < PERMS; k++) {
      const v = (h1 + Math.imul(k, h2)) >>> 0;
      if (v < sig[k]) sig[k] = v;
    }
  }
  return sig;
}

export function estimatedSimilarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let k = 0; k < PERMS; k++) if (a[k] === b[k]) same++;
  return same / PERMS;
}

export class NearDuplicateIndex {
  private readonly findBand: Statement;
  private readonly addBand: Statement;
  private readonly getSig: Statement;
  private readonly addSig: Statement;
  private next = 1;

  constructor(
    private readonly db: Db,
    readonly threshold = 0.8,
  ) {
    db.exec(`
      DROP TABLE IF EXISTS temp.minhash_bands;
      DROP TABLE IF EXISTS temp.minhash_sigs;
      CREATE TEMP TABLE minhash_bands (key INTEGER NOT NULL, rec INTEGER NOT NULL);
      CREATE INDEX temp.minhash_bands_key ON minhash_bands(key);
      CREATE TEMP TABLE minhash_sigs (rec INTEGER PRIMARY KEY, sig BLOB NOT NULL);
    `);
    this.findBand = db.prepare(`SELECT rec FROM temp.minhash_bands WHERE key = ? LIMIT ${MAX_CANDIDATES}`).pluck();
    this.addBand = db.prepare(`INSERT INTO temp.minhash_bands (key, rec) VALUES (?, ?)`);
    this.getSig = db.prepare(`SELECT sig FROM temp.minhash_sigs WHERE rec = ?`).pluck();
    this.addSig = db.prepare(`INSERT INTO temp.minhash_sigs (rec, sig) VALUES (?, ?)`);
  }

  private bandKeys(sig: Uint32Array): number[] {
    const keys: number[] = [];
    for (let b = 0; b < BANDS; b++) {
      let h = 0x9747b28c ^ b;
      for (let r = 0; r < ROWS; r++) h = mix(h ^ sig[b * ROWS + r]);
      keys.push(b * 4294967296 + h); // band in the high bits: a 36-bit integer, exact in a double
    }
    return keys;
  }

  /** True when the text is near-identical to one seen before; otherwise remembers it. */
  seen(text: string): boolean {
    const sig = minhashSignature(text);
    const keys = this.bandKeys(sig);
    const checked = new Set<number>();
    for (const key of keys) {
      for (const rec of this.findBand.all(key) as number[]) {
        if (checked.has(rec)) continue;
        checked.add(rec);
        const other = this.getSig.get(rec) as Buffer;
        const otherSig = new Uint32Array(other.buffer.slice(other.byteOffset, other.byteOffset + other.byteLength));
        if (estimatedSimilarity(sig, otherSig) >= this.threshold) return true;
        if (checked.size >= MAX_CANDIDATES) break;
      }
    }
    const rec = this.next++;
    this.db.transaction(() => {
      this.addSig.run(rec, Buffer.from(sig.buffer));
      for (const key of keys) this.addBand.run(key, rec);
    })();
    return false;
  }

  close(): void {
    this.db.exec(`DROP TABLE IF EXISTS temp.minhash_bands; DROP TABLE IF EXISTS temp.minhash_sigs;`);
  }
}
