import type { Migration } from './index';

// Jobs are rows: every long task is persisted with its state, progress and
// log so that a restarted app can list it. Settings are plain key → JSON.
export const migration001: Migration = {
  version: 1,
  name: 'core: jobs, job logs, settings',
  up: `
    CREATE TABLE jobs (
      id          TEXT PRIMARY KEY,
      kind        TEXT NOT NULL,
      title       TEXT NOT NULL,
      state       TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled','interrupted')),
      progress    REAL NOT NULL DEFAULT 0,
      message     TEXT NOT NULL DEFAULT '',
      input       TEXT NOT NULL DEFAULT '{}',
      result      TEXT,
      error       TEXT,
      created_at  INTEGER NOT NULL,
      started_at  INTEGER,
      finished_at INTEGER
    );
    CREATE INDEX jobs_created ON jobs(created_at DESC);
    CREATE TABLE job_logs (
      job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      seq     INTEGER NOT NULL,
      time    INTEGER NOT NULL,
      level   TEXT NOT NULL CHECK (level IN ('info','warn','error')),
      text    TEXT NOT NULL,
      PRIMARY KEY (job_id, seq)
    );
    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `,
};
