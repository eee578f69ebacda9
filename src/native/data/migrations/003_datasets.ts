import type { Migration } from './index';

// Datasets and their records.
//
// - A record keeps its plain text in `text` (what search, lengths and the
//   table show) and, for instruction/chat records, the structured content as
//   JSON in `data`. Text records store their text once.
// - Datasets have small integer ids (AUTOINCREMENT: never reused, so a run
//   holding the id of a deleted dataset cannot end up reading another). Every
//   record and index entry carries it; a UUID there would cost ~30 bytes each.
// - `hash` (8 bytes) is the normalized content's hash: the split is derived
//   from it and the seed, so the same content lands in the same split on every
//   import. The importer finds duplicates in memory; the index serves the
//   duplicate count in statistics (0.3 s at a million records, 4 s without).
// - Search is a contentless FTS5 table with `contentless_delete`: deleting a
//   record removes its entry without re-reading its text (cheap bulk deletes),
//   and deleting a rowid that was never indexed is harmless. Inserts are
//   indexed by the importer in large chunks (per-row indexing is several
//   times slower), with a 32 MB term buffer (the 1 MB default flushes small
//   segments that then cost merges: half the indexing time); updates and
//   deletes are kept in sync by the triggers below whatever code makes them.
// - Token counts are cached per tokenizer (tokenizer + chat template hash)
//   and dropped by trigger when a record's content changes.
// - Datasets are created `importing` and turn `ready` when their import
//   commits; an aborted or crashed import deletes its rows, so the database
//   stays as it was. `deleting` hides a dataset while a job removes its rows.
export const migration003: Migration = {
  version: 3,
  name: 'datasets: datasets, records, full-text search, token counts',
  up: `
    CREATE TABLE datasets (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      name          TEXT NOT NULL COLLATE NOCASE UNIQUE,
      kind          TEXT NOT NULL CHECK (kind IN ('text','instruction','chat')),
      state         TEXT NOT NULL CHECK (state IN ('importing','ready','deleting')),
      source        TEXT NOT NULL DEFAULT '',
      created_at    INTEGER NOT NULL,
      updated_at    INTEGER NOT NULL,
      record_count  INTEGER NOT NULL DEFAULT 0,
      total_chars   INTEGER NOT NULL DEFAULT 0,
      train_count   INTEGER NOT NULL DEFAULT 0,
      eval_count    INTEGER NOT NULL DEFAULT 0,
      eval_ratio    REAL NOT NULL DEFAULT 0,
      split_seed    INTEGER NOT NULL DEFAULT 0,
      job_id        TEXT,
      last_import   TEXT
    );

    CREATE TABLE dataset_records (
      id          INTEGER PRIMARY KEY,
      dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      text        TEXT NOT NULL,
      data        TEXT,
      hash        BLOB NOT NULL,
      split       TEXT NOT NULL CHECK (split IN ('train','eval')),
      chars       INTEGER NOT NULL,
      line        INTEGER,
      origin      TEXT
    );
    CREATE INDEX dataset_records_dataset ON dataset_records(dataset_id);
    CREATE INDEX dataset_records_length ON dataset_records(dataset_id, chars, split);
    CREATE INDEX dataset_records_hash ON dataset_records(dataset_id, hash);

    CREATE VIRTUAL TABLE dataset_records_fts USING fts5(text, content='', contentless_delete=1);
    INSERT INTO dataset_records_fts(dataset_records_fts, rank) VALUES ('hashsize', 33554432);
    CREATE TRIGGER dataset_records_fts_delete AFTER DELETE ON dataset_records BEGIN
      DELETE FROM dataset_records_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER dataset_records_fts_update AFTER UPDATE OF text ON dataset_records BEGIN
      DELETE FROM dataset_records_fts WHERE rowid = old.id;
      INSERT INTO dataset_records_fts(rowid, text) VALUES (new.id, new.text);
    END;

    CREATE TABLE dataset_tokenizers (
      id          TEXT PRIMARY KEY,
      label       TEXT NOT NULL,
      model_dir   TEXT NOT NULL,
      created_at  INTEGER NOT NULL
    );
    CREATE TABLE dataset_token_counts (
      record_id     INTEGER NOT NULL REFERENCES dataset_records(id) ON DELETE CASCADE,
      tokenizer_id  TEXT NOT NULL REFERENCES dataset_tokenizers(id) ON DELETE CASCADE,
      dataset_id    INTEGER NOT NULL,
      tokens        INTEGER NOT NULL,
      PRIMARY KEY (record_id, tokenizer_id)
    ) WITHOUT ROWID;
    CREATE INDEX dataset_token_counts_dataset ON dataset_token_counts(dataset_id, tokenizer_id, tokens);
    CREATE TRIGGER dataset_token_counts_stale AFTER UPDATE OF text, data ON dataset_records BEGIN
      DELETE FROM dataset_token_counts WHERE record_id = old.id;
    END;
  `,
};
