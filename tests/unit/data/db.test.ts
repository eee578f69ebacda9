import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { latestSchemaVersion, openDatabase, schemaVersion } from '../../../src/native/data/db';
import type { Migration } from '../../../src/native/data/migrations/index';
import { tempDataDir } from '../host/helpers';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});
function tmpFile() {
  const t = tempDataDir();
  cleanups.push(t.cleanup);
  return path.join(t.dir, 'deepen.db');
}

describe('database', () => {
  it('creates the schema at the latest version, in WAL mode', () => {
    const file = tmpFile();
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(latestSchemaVersion());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('refuses a database written by a newer Deepen, naming the file and versions', () => {
    const file = tmpFile();
    openDatabase(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${latestSchemaVersion() + 5}`);
    raw.close();
    expect(() => openDatabase(file)).toThrowError(new RegExp(`schema version ${latestSchemaVersion() + 5}.*newer Deepen`));
  });

  it('applies pending migrations in one transaction: a failing one leaves the database as it was', () => {
    const file = tmpFile();
    const good: Migration = { version: 1, name: 'a', up: 'CREATE TABLE a (x INTEGER);' };
    openDatabase(file, { migrations: [good] }).close();
    const bad: Migration[] = [
      good,
      { version: 2, name: 'b', up: 'CREATE TABLE b (x INTEGER);' },
      { version: 3, name: 'c', up: 'CREATE TABLE c (x INTEGER); THIS IS NOT SQL;' },
    ];
    expect(() => openDatabase(file, { migrations: bad })).toThrow();
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    expect(raw.prepare(`SELECT name FROM sqlite_master WHERE name = 'b'`).get()).toBeUndefined();
    raw.close();
  });

  it('refuses migration lists with gaps or repeats (a migration slotted into a gap would never run)', () => {
    const file = tmpFile();
    const m = (version: number): Migration => ({ version, name: `m${version}`, up: 'SELECT 1;' });
    expect(() => openDatabase(file, { migrations: [m(1), m(3)] })).toThrowError(/without gaps/);
    expect(() => openDatabase(tmpFile(), { migrations: [m(1), m(1)] })).toThrowError(/without gaps/);
  });

  it('says clearly when the file is not a database', () => {
    const file = tmpFile();
    fs.writeFileSync(file, 'this is not sqlite'.repeat(100));
    expect(() => openDatabase(file)).toThrowError(/not a Deepen database or is damaged/);
  });
});

describe('migration 5: length and hash tables, search indexed after import', () => {
  it('fills the new tables from the records of a version-4 database, keeps their search, and keeps them in step after', async () => {
    const { migrations } = await import('../../../src/native/data/migrations/index');
    const { datasetStats } = await import('../../../src/native/data/datasets-stats');
    const { countRecords, updateRecord, deleteRecord } = await import('../../../src/native/data/datasets-records');
    const { getDatasetRow } = await import('../../../src/native/data/datasets');
    const file = tmpFile();
    // a database as version 4 left it: a ready dataset, its records indexed for search row by row
    const old = openDatabase(file, { migrations: migrations.filter((m) => m.version <= 4) });
    old.prepare(`INSERT INTO datasets (name, kind, state, created_at, updated_at, record_count, total_chars, train_count) VALUES ('old', 'text', 'ready', 1, 1, 5, 0, 5)`).run();
    const texts = ['alpha beta', 'beta gamma', 'alpha beta', 'delta', 'epsilon zeta eta'];
    texts.forEach((t, i) => {
      old.prepare(`INSERT INTO dataset_records (dataset_id, text, hash, split, chars) VALUES (1, ?, ?, ?, ?)`).run(t, Buffer.from(`h${t}`.padEnd(8).slice(0, 8)), i === 4 ? 'eval' : 'train', t.length);
      old.prepare(`INSERT INTO dataset_records_fts (rowid, text) VALUES (?, ?)`).run(i + 1, t);
    });
    old.close();

    const db = openDatabase(file);
    cleanups.push(() => db.close());
    expect(getDatasetRow(db, '1')).toMatchObject({ records: 5, unindexedRecords: 0 });
    expect(db.prepare(`SELECT chars, split, records FROM dataset_lengths ORDER BY chars, split`).all()).toEqual([
      { chars: 5, split: 'train', records: 1 },
      { chars: 10, split: 'train', records: 3 },
      { chars: 16, split: 'eval', records: 1 },
    ]);
    expect(db.prepare(`SELECT count(*) AS n FROM dataset_hashes`).get()).toEqual({ n: 5 });
    expect(datasetStats(db, { datasetId: '1' })).toMatchObject({ records: 5, duplicates: 1, medianChars: 10, minChars: 5, maxChars: 16 });
    expect(countRecords(db, '1', { query: 'alpha' })).toBe(2);
    // indexed records stay in step with edits through the guarded trigger
    updateRecord(db, 1, { content: { kind: 'text', text: 'omega' } });
    expect(countRecords(db, '1', { query: 'alpha' })).toBe(1);
    expect(countRecords(db, '1', { query: 'omega' })).toBe(1);
    deleteRecord(db, 2);
    expect(datasetStats(db, { datasetId: '1' })).toMatchObject({ records: 4, duplicates: 0 });
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name IN ('dataset_records_length', 'dataset_records_hash')`).all()).toEqual([]);
  });
});

describe('job progress rows', () => {
  it('are written only when the database is free: no wait while a worker holds the write lock', async () => {
    const { insertJob, getJob, tryUpdateJobProgress } = await import('../../../src/native/data/jobs');
    const file = tmpFile();
    const engine = openDatabase(file);
    const worker = openDatabase(file);
    cleanups.push(() => (engine.close(), worker.close()));
    insertJob(engine, { id: 'j', kind: 'selftest', title: 't', input: {}, createdAt: 1 });
    worker.exec('BEGIN IMMEDIATE');
    const t = performance.now();
    expect(tryUpdateJobProgress(engine, 'j', 0.5, 'half')).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000); // busy_timeout is 5 s
    expect(engine.pragma('busy_timeout', { simple: true })).toBe(5000);
    worker.exec('COMMIT');
    expect(tryUpdateJobProgress(engine, 'j', 0.5, 'half')).toBe(true);
    expect(getJob(engine, 'j')).toMatchObject({ progress: 0.5, message: 'half' });
  });
});
