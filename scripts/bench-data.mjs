// `npm run bench:data`: how fast does a large JSON Lines file import, how much
// memory does it take, and how quickly does full-text search answer on it?
//
// 1. Generates a ~500 MB JSONL file of text records (about a million, words
//    drawn from a Zipf-like vocabulary so that search terms range from common
//    to rare) in a temp folder.
// 2. Peer: in a child process, the plainest better-sqlite3 loader of the same
//    file, then one FTS5 build over it (scripts/lib/bench-data-child.ts).
// 3. Imports it in a child process (so its peak RSS is its own, read from
//    process.resourceUsage().maxRSS), into a fresh database, through the same
//    importer the import job runs: reading, mapping, hashing, duplicate
//    checks, batched inserts, the length and hash tables, commit. That is the
//    import time (the records are browsable from there). Then, timed apart,
//    the search indexing the engine runs next as its own job. The children
//    run the engine code bundled as the app is built.
// 4. Once more as the app runs it: the import and index jobs of an engine
//    host (job worker, reader thread), with the engine thread's event-loop
//    lag meanwhile (how long it could not answer the UI).
// 5. Searches the imported dataset: the first page (100 rows) for common,
//    mid-frequency and rare words, two-word queries, a phrase and a prefix,
//    20 times each; and the match count for the same queries.
// 6. Prints a table and, as the last line, one JSON object.
//
// Targets (issue 5): import ≥ 50 MB/s, search < 100 ms at 1M records, peak RSS < 500 MB.
//
// Options: --mb N (default 500), --dir PATH (default os.tmpdir()), --keep, --runs N (default 20)
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const src = (p) => path.join(root, 'src', 'native', 'data', p);
const MB = 1e6;

const { values } = parseArgs({
  options: { mb: { type: 'string' }, dir: { type: 'string' }, keep: { type: 'boolean' }, runs: { type: 'string' } },
});

/** Bundles the timed child (scripts/lib/bench-data-child.ts) with the engine's worker entries, as scripts/build-engine.mjs builds the app. */
async function bundleChild() {
  const { bundleEngine } = await import('./lib/engine-bundle.mjs');
  const outdir = path.join(root, '.bench', 'data-engine');
  await bundleEngine([path.join(here, 'lib', 'bench-data-child.ts')], outdir);
  return path.join(outdir, 'bench-data-child.js');
}

/** Runs the bundled child on a fresh database: `ours` (the importer and the search index job), `plain` (the peer) or `host` (a data folder: both as engine jobs). */
async function runChild(childJs, mode, dbFile, file) {
  const { openDatabase } = await import(src('db.ts'));
  openDatabase(mode === 'host' ? path.join(dbFile, 'deepen.db') : dbFile).close(); // schema first, so the child's time is the import alone
  const r = spawnSync(process.execPath, [childJs, mode, dbFile, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`the ${mode} import child failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Writes ~targetBytes of JSONL; returns the vocabulary (index 0 = most common word). */
async function generate(file, targetBytes) {
  // the same seeded generator the batch shuffler uses, so every run writes the same file
  const { prng } = await import(src('batches.ts'));
  const rand = prng(42);
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  const vocab = [];
  const seen = new Set();
  while (vocab.length < 50_000) {
    const len = 2 + Math.floor(rand() * rand() * 10);
    let w = '';
    for (let i = 0; i < len; i++) w += letters[Math.floor(Math.pow(rand(), 1.6) * letters.length)];
    if (!seen.has(w)) {
      seen.add(w);
      vocab.push(w);
    }
  }
  // Zipf: word k is drawn with probability ~ 1/(k+1)
  const H = vocab.reduce((s, _, k) => s + 1 / (k + 1), 0);
  const cdf = new Float64Array(vocab.length);
  let acc = 0;
  vocab.forEach((_, k) => (cdf[k] = acc += 1 / (k + 1) / H));
  const word = () => {
    const u = rand();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo];
  };
  const fd = fs.openSync(file, 'w');
  let written = 0;
  let records = 0;
  let chunk = [];
  let chunkBytes = 0;
  while (written < targetBytes) {
    const n = 30 + Math.floor(rand() * 120);
    const words = new Array(n);
    for (let i = 0; i < n; i++) words[i] = word();
    const line = `{"text":"${words.join(' ')}.","id":${records}}\n`;
    chunk.push(line);
    chunkBytes += line.length;
    records++;
    if (chunkBytes > 8 * MB) {
      fs.writeSync(fd, chunk.join(''));
      written += chunkBytes;
      chunk = [];
      chunkBytes = 0;
    }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join(''));
  fs.closeSync(fd);
  return { vocab, records };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function search(dbFile, queries, runs) {
  const { openDatabase } = await import(src('db.ts'));
  const { pageRecords, countRecords } = await import(src('datasets-records.ts'));
  const db = openDatabase(dbFile);
  const out = [];
  for (const [label, query] of queries) {
    const page = [];
    const count = [];
    let hits = 0;
    let matches = 0;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      hits = pageRecords(db, { datasetId: '1', filter: { query }, limit: 100 }).rows.length;
      page.push(performance.now() - t);
      if (i < Math.min(runs, 5)) {
        t = performance.now();
        matches = countRecords(db, '1', { query });
        count.push(performance.now() - t);
      }
    }
    page.sort((a, b) => a - b);
    count.sort((a, b) => a - b);
    out.push({ label, query, hits, matches, p50: quantile(page, 0.5), p95: quantile(page, 0.95), countP50: quantile(count, 0.5) });
  }
  // an offset jump, as the records table does when its scrollbar is dragged far
  let t = performance.now();
  pageRecords(db, { datasetId: '1', offset: 900_000, limit: 100 });
  const offsetMs = performance.now() - t;
  const { datasetStats } = await import(src('datasets-stats.ts'));
  t = performance.now();
  datasetStats(db, { datasetId: '1', seqLen: 512 });
  const statsMs = performance.now() - t;
  db.close();
  return { queries: out, offsetMs, statsMs };
}

async function main() {
  const targetMb = Number(values.mb ?? 500);
  const runs = Number(values.runs ?? 20);
  const base = values.dir ?? os.tmpdir();
  try {
    const df = execFileSync('df', ['-k', base], { encoding: 'utf8' }).trim().split('\n').pop().split(/\s+/);
    const freeBytes = Number(df[3]) * 1024;
    if (freeBytes < targetMb * MB * 4) {
      console.error(`Only ${(freeBytes / 1e9).toFixed(1)} GB free in ${base}; the bench needs about ${((targetMb * MB * 4) / 1e9).toFixed(1)} GB (file + database). Use --dir or --mb.`);
      process.exit(1);
    }
  } catch {
    // no df (Windows): go ahead
  }
  const dir = fs.mkdtempSync(path.join(base, 'deepen-bench-data-'));
  const file = path.join(dir, 'bench.jsonl');
  const dbFile = path.join(dir, 'deepen.db');
  try {
    process.stderr.write(`Generating ~${targetMb} MB of JSONL in ${dir}…\n`);
    let t = performance.now();
    const { vocab, records } = await generate(file, targetMb * MB);
    const bytes = fs.statSync(file).size;
    process.stderr.write(`  ${records.toLocaleString()} records, ${(bytes / MB).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

    process.stderr.write('Bundling the engine code as the app is built…\n');
    const childJs = await bundleChild();
    // the peer first, then ours: each on a fresh database, the source file in the page cache for both
    process.stderr.write('Peer: the plainest better-sqlite3 loader, then one FTS5 build…\n');
    const peer = await runChild(childJs, 'plain', path.join(dir, 'plain.db'), file);
    for (const x of ['', '-wal', '-shm']) fs.rmSync(path.join(dir, 'plain.db') + x, { force: true });
    process.stderr.write('Deepen: the importer, then the search index job…\n');
    const imp = await runChild(childJs, 'ours', dbFile, file);
    const dbBytes = ['', '-wal', '-shm'].reduce((s, x) => s + (fs.existsSync(dbFile + x) ? fs.statSync(dbFile + x).size : 0), 0);
    process.stderr.write('Deepen as the app runs it: the import and index jobs of an engine host…\n');
    const hostDir = path.join(dir, 'host');
    const app = await runChild(childJs, 'host', hostDir, file);
    fs.rmSync(hostDir, { recursive: true, force: true });

    process.stderr.write('Searching…\n');
    const queries = [
      ['common word', vocab[3]],
      ['mid-frequency word', vocab[300]],
      ['rare word', vocab[20_000]],
      ['two common words', `${vocab[1]} ${vocab[5]}`],
      ['common + rare', `${vocab[2]} ${vocab[15_000]}`],
      ['phrase', `"${vocab[0]} ${vocab[1]}"`],
      ['prefix', `${vocab[40].slice(0, 3)}*`],
      ['no match', 'zzzzzzzzzz'],
    ];
    const s = await search(dbFile, queries, runs);

    const mbps = bytes / MB / imp.seconds;
    const searchableMbps = bytes / MB / (imp.seconds + imp.indexSeconds);
    const peerMbps = bytes / MB / peer.seconds;
    const peerSearchableMbps = bytes / MB / (peer.seconds + peer.indexSeconds);
    const rps = imp.records / imp.seconds;
    const allP50 = s.queries.map((q) => q.p50).sort((a, b) => a - b);
    const worstP95 = Math.max(...s.queries.map((q) => q.p95));
    const ratio = (a, b) => `${(a / b).toFixed(2)}× the peer`;
    const rows = [
      ['file', `${(bytes / MB).toFixed(0)} MB, ${imp.records.toLocaleString()} records`],
      ['', 'Deepen  |  peer (plain loader)'],
      ['records committed', `${imp.seconds.toFixed(1)} s, CPU ${imp.cpuSeconds.toFixed(1)} s  |  ${peer.seconds.toFixed(1)} s, CPU ${peer.cpuSeconds.toFixed(1)} s`],
      ['import MB/s', `${mbps.toFixed(1)}  |  ${peerMbps.toFixed(1)}   (${ratio(mbps, peerMbps)}; target ≥ 50)`],
      ['import records/s', `${Math.round(rps).toLocaleString()}  |  ${Math.round(peer.records / peer.seconds).toLocaleString()}`],
      ['search index after it', `${imp.indexSeconds.toFixed(1)} s  |  ${peer.indexSeconds.toFixed(1)} s`],
      ['searchable MB/s (both)', `${searchableMbps.toFixed(1)}  |  ${peerSearchableMbps.toFixed(1)}   (${ratio(searchableMbps, peerSearchableMbps)})`],
      ['peak RSS', `${(imp.maxRssBytes / MB).toFixed(0)} MB  |  ${(peer.maxRssBytes / MB).toFixed(0)} MB   (target < 500)`],
      ['as engine jobs (app)', `import ${app.seconds.toFixed(1)} s (${(bytes / MB / app.seconds).toFixed(1)} MB/s), search index ${app.indexSeconds.toFixed(1)} s, peak RSS ${(app.maxRssBytes / MB).toFixed(0)} MB`],
      ['engine thread lag meanwhile', `p50 ${app.lagMs.p50.toFixed(0)} ms, p99 ${app.lagMs.p99.toFixed(0)} ms, max ${app.lagMs.max.toFixed(0)} ms`],
      ['database size', `${(dbBytes / MB).toFixed(0)} MB`],
      ...s.queries.map((q) => [`search: ${q.label}`, `p50 ${q.p50.toFixed(1)} ms, p95 ${q.p95.toFixed(1)} ms (${q.hits} rows; count of ${q.matches.toLocaleString()} matches ${q.countP50.toFixed(0)} ms)`]),
      ['search p50 / worst p95', `${quantile(allP50, 0.5).toFixed(1)} / ${worstP95.toFixed(1)} ms  (target < 100)`],
      ['table jump to row 900,000', `${s.offsetMs.toFixed(1)} ms`],
      ['statistics (histogram, median, duplicates)', `${s.statsMs.toFixed(0)} ms`],
      ['machine', `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`],
    ];
    const width = Math.max(...rows.map((x) => x[0].length));
    console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
    console.log(
      JSON.stringify({
        bytes,
        records: imp.records,
        importSeconds: imp.seconds,
        importMBps: mbps,
        importRecordsPerSecond: rps,
        indexSeconds: imp.indexSeconds,
        searchableMBps: searchableMbps,
        app: { importSeconds: app.seconds, importMBps: bytes / MB / app.seconds, indexSeconds: app.indexSeconds, peakRssMB: app.maxRssBytes / MB, lagMs: app.lagMs },
        peer: { importSeconds: peer.seconds, importMBps: peerMbps, indexSeconds: peer.indexSeconds, searchableMBps: peerSearchableMbps, peakRssMB: peer.maxRssBytes / MB },
        peakRssMB: imp.maxRssBytes / MB,
        databaseMB: dbBytes / MB,
        searchP50Ms: quantile(allP50, 0.5),
        searchWorstP95Ms: worstP95,
        search: s.queries.map(({ label, p50, p95, matches, countP50 }) => ({ label, p50, p95, matches, countP50 })),
        offsetJumpMs: s.offsetMs,
        statsMs: s.statsMs,
        loadAverage: os.loadavg(),
        targetsMet: { importMBps: mbps >= 50, searchMs: worstP95 < 100, peakRss: imp.maxRssBytes / MB < 500 },
      }),
    );
  } finally {
    if (values.keep) process.stderr.write(`Kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
