// The timed part of `npm run bench:data`, bundled by the bench exactly as the
// engine is built (scripts/build-engine.mjs: one ESM bundle, worker entries
// beside it) and run in a process of its own, so its peak RSS is its own and
// the import's reader thread starts as it does in the app.
//
//   node bench-data-child.js ours  DB FILE   the importer, then the search index job's work
//   node bench-data-child.js plain DB FILE   the peer: the plainest loader, then one FTS5 build
//   node bench-data-child.js host  DIR FILE  both as the app runs them: jobs of an engine host (job
//                                            worker, reader thread, index job), timing the engine
//                                            thread's event-loop lag meanwhile
//
// Prints one JSON line: seconds, indexSeconds, cpuSeconds, records, maxRssBytes (and lag for host).
import fs from 'node:fs';
import { openDatabase } from '../../src/native/data/db';
import { createPendingDataset } from '../../src/native/data/datasets';
import { indexForSearch } from '../../src/native/data/datasets-search-index';
import { runImport } from '../../src/native/data/import/importer';

const [mode, dbFile, file] = process.argv.slice(2);

function progressLine(label: string) {
  let last = 0;
  return (f: number) => {
    if (process.stderr.isTTY && f - last >= 0.01) {
      last = f;
      process.stderr.write(`\r  ${label} ${(f * 100).toFixed(0)}%`);
    }
  };
}

async function ours() {
  const db = openDatabase(dbFile);
  db.pragma('cache_size = -65536'); // as the dataset jobs set it
  const datasetId = createPendingDataset(db, { name: 'bench', kind: 'text', source: file, jobId: null, evalRatio: 0.01, seed: 1, now: Date.now() });
  const ctx = { progress: progressLine('importing'), log: () => undefined, throwIfCancelled: () => undefined };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const report = await runImport(db, { path: file, name: 'bench', datasetId, evalRatio: 0.01, seed: 1 }, ctx);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  const { indexed } = indexForSearch(db, datasetId, { ...ctx, progress: progressLine('indexing for search') });
  const indexSeconds = (performance.now() - t1) / 1000;
  db.close();
  return { seconds, indexSeconds, indexed, cpuSeconds: (cpu.user + cpu.system) / 1e6, records: report.records };
}

/**
 * The peer: what a short script would do with better-sqlite3 on the same
 * machine. One prepared INSERT per line in transactions of 4096 rows into a
 * table with no index, no hashing, no duplicate or split bookkeeping; then
 * one FTS5 build over all of it in a single transaction.
 */
async function plain() {
  const db = openDatabase(dbFile);
  db.pragma('cache_size = -65536');
  db.exec(`CREATE TABLE plain (id INTEGER PRIMARY KEY, text TEXT NOT NULL); CREATE VIRTUAL TABLE plain_fts USING fts5(text, content='', contentless_delete=1);
    INSERT INTO plain_fts(plain_fts, rank) VALUES ('hashsize', 33554432);`);
  const insert = db.prepare(`INSERT INTO plain (text) VALUES (?)`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let batch: string[] = [];
  let records = 0;
  const flush = db.transaction((rows: string[]) => {
    for (const t of rows) insert.run(t);
  });
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = '';
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) {
    const lines = (carry + buf.toString('utf8', 0, n)).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      batch.push(String((JSON.parse(line) as { text: string }).text));
      if (batch.length === 4096) {
        flush(batch);
        records += batch.length;
        batch = [];
      }
    }
  }
  fs.closeSync(fd);
  if (carry.trim()) batch.push(String((JSON.parse(carry) as { text: string }).text));
  flush(batch);
  records += batch.length;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  db.transaction(() => db.exec(`INSERT INTO plain_fts (rowid, text) SELECT id, text FROM plain`))();
  const indexSeconds = (performance.now() - t1) / 1000;
  db.close();
  return { seconds, indexSeconds, indexed: records, cpuSeconds: (cpu.user + cpu.system) / 1e6, records };
}

/** The import and its index job through the engine host, as the app runs them; how long the engine's thread was kept from answering meanwhile. */
async function host() {
  const { EngineHost } = await import('../../src/native/host/host');
  const engine = new EngineHost({ dataDir: dbFile });
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 10));
    last = now;
  }, 10);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const started = await engine.call('datasets.import', { path: file, name: 'bench', evalRatio: 0.01, seed: 1 });
  const imported = await engine.jobs.wait(started.jobId);
  if (imported.state !== 'succeeded') throw new Error(`the import job ${imported.state}: ${imported.error?.message}`);
  const seconds = (performance.now() - t0) / 1000;
  // the index job the engine started after the import (null: it is already done)
  const { jobId } = await engine.call('datasets.index', { datasetId: started.datasetId });
  if (jobId) await engine.jobs.wait(jobId);
  const indexSeconds = (performance.now() - t0) / 1000 - seconds;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  const records = (await engine.call('datasets.get', { id: started.datasetId })).records;
  await engine.close();
  lags.sort((a, b) => a - b);
  const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? 0;
  return { seconds, indexSeconds, indexed: records, cpuSeconds: (cpu.user + cpu.system) / 1e6, records, lagMs: { p50: q(0.5), p99: q(0.99), max: lags[lags.length - 1] ?? 0 } };
}

const result = mode === 'plain' ? await plain() : mode === 'host' ? await host() : await ours();
if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
// maxRSS is in kilobytes
process.stdout.write(JSON.stringify({ ...result, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n');
