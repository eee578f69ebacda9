import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { migrations as allMigrations, type Migration } from './migrations/index';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the Deepen database and brings its schema up to
 * date. Under Electron the engine runs in Electron's Node, whose ABI differs
 * from the system Node's: `DEEPEN_SQLITE_BINDING` then points at a
 * better-sqlite3 binary built for Electron (see scripts/postinstall.mjs).
 */
export function openDatabase(file: string, opts: { migrations?: Migration[] } = {}): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const nativeBinding = process.env.DEEPEN_SQLITE_BINDING || undefined;
  let db: Db;
  try {
    db = new Database(file, nativeBinding ? { nativeBinding } : {});
  } catch (err) {
    throw new DeepenError('bad_file', `Could not open the database ${file}: ${(err as Error).message}. Check that the folder is writable, or set DEEPEN_HOME to another folder.`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, file, opts.migrations ?? allMigrations);
  } catch (err) {
    db.close();
    if (err instanceof DeepenError) throw err;
    if ((err as { code?: string }).code === 'SQLITE_NOTADB' || (err as { code?: string }).code === 'SQLITE_CORRUPT') {
      throw new DeepenError('bad_file', `${file} is not a Deepen database or is damaged. Move it away and restart to create a new one.`);
    }
    throw err;
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration newer than the database's `user_version` in ONE
 * transaction that also sets `user_version`: a failure leaves the database as
 * it was. A database written by a newer Deepen is refused rather than guessed at.
 */
export function migrate(db: Db, file: string, migrations: Migration[]): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  // 1, 2, 3, … with no gap or repeat: user_version only rises, so a migration
  // added into a gap later would be skipped on every existing database.
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 1, 2, 3, … without gaps; found version ${m.version} at position ${i + 1} (${m.name})`);
  });
  const latest = sorted.length ? sorted[sorted.length - 1].version : 0;
  const current = schemaVersion(db);
  if (current > latest) {
    throw new DeepenError(
      'unsupported',
      `The database ${file} has schema version ${current}, but this Deepen knows only up to ${latest}. It was written by a newer Deepen: update Deepen, or set DEEPEN_HOME to another folder.`,
      { file, schemaVersion: current, supported: latest },
    );
  }
  const pending = sorted.filter((m) => m.version > current);
  if (!pending.length) return;
  db.transaction(() => {
    for (const m of pending) db.exec(m.up);
    db.pragma(`user_version = ${latest | 0}`);
  }).immediate();
}

export function latestSchemaVersion(): number {
  return Math.max(0, ...allMigrations.map((m) => m.version));
}
