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
