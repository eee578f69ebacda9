import type { Migration } from './index';

// Imports at disk speed: nothing a row insert must update at a random place.
//
// - The (dataset, chars, split) and (dataset, hash) indexes cost two random
//   B-tree inserts a record (7 µs each: over half of an import's time). They
//   are replaced by two tables the importer fills once, at its end, in order:
//   - `dataset_lengths` counts records per (dataset, length, split): a few
//     thousand rows a dataset at most, whatever its size, and every length
//     statistic (counts, sums, median, histogram, over-length) reads it;
//   - `dataset_hashes` lists (dataset, hash, record) sorted, for the duplicate
//     count; the importer inserts it with INSERT … SELECT … ORDER BY, which
//     appends instead of inserting at random.
//   Triggers keep both in step with edits, re-splits and deletes, whatever code
//   makes them. Record inserts have no trigger: records only come from imports.
// - Full-text search is built after an import commits, by its own job, in
//   large chunks (FTS5 is the costliest part of an import). `indexed_until` is
//   the highest record id indexed: records above it are not searchable yet,
//   and the text trigger leaves them to the indexing job. `unindexed` counts
//   them (set at commit, lowered by each chunk and by deletes), so showing it
//   costs nothing while a million records wait. FTS5 merges index
//   segments 16 at a time instead of 4: the same index ~17% faster in chunked
//   transactions, searches still a few milliseconds.
export const migration005: Migration = {
  version: 5,
  name: 'datasets: length and hash tables instead of random-insert indexes; search indexed after import',
  up: `
    ALTER TABLE datasets ADD COLUMN indexed_until INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE datasets ADD COLUMN unindexed INTEGER NOT NULL DEFAULT 0;
    UPDATE datasets SET indexed_until = coalesce((SELECT max(r.id) FROM dataset_records r WHERE r.dataset_id = datasets.id), 0);

    DROP INDEX dataset_records_length;
    DROP INDEX dataset_records_hash;

    CREATE TABLE dataset_lengths (
      dataset_id  INTEGER NOT NULL,
      chars       INTEGER NOT NULL,
      split       TEXT NOT NULL,
      records     INTEGER NOT NULL,
      PRIMARY KEY (dataset_id, chars, split)
    ) WITHOUT ROWID;
    INSERT INTO dataset_lengths (dataset_id, chars, split, records)
      SELECT dataset_id, chars, split, count(*) FROM dataset_records GROUP BY dataset_id, chars, split;

    CREATE TABLE dataset_hashes (
      dataset_id  INTEGER NOT NULL,
      hash        BLOB NOT NULL,
      record_id   INTEGER NOT NULL,
      PRIMARY KEY (dataset_id, hash, record_id)
    ) WITHOUT ROWID;
    INSERT INTO dataset_hashes (dataset_id, hash, record_id)
      SELECT dataset_id, hash, id FROM dataset_records ORDER BY dataset_id, hash, id;

    CREATE TRIGGER dataset_records_side_delete AFTER DELETE ON dataset_records BEGIN
      UPDATE dataset_lengths SET records = records - 1 WHERE dataset_id = old.dataset_id AND chars = old.chars AND split = old.split;
      DELETE FROM dataset_hashes WHERE dataset_id = old.dataset_id AND hash = old.hash AND record_id = old.id;
      UPDATE datasets SET unindexed = unindexed - 1 WHERE id = old.dataset_id AND old.id > indexed_until AND unindexed > 0;
    END;
    CREATE TRIGGER dataset_records_lengths_update AFTER UPDATE OF chars, split ON dataset_records BEGIN
      UPDATE dataset_lengths SET records = records - 1 WHERE dataset_id = old.dataset_id AND chars = old.chars AND split = old.split;
      INSERT INTO dataset_lengths (dataset_id, chars, split, records) VALUES (new.dataset_id, new.chars, new.split, 1)
        ON CONFLICT (dataset_id, chars, split) DO UPDATE SET records = records + 1;
    END;
    CREATE TRIGGER dataset_records_hashes_update AFTER UPDATE OF hash ON dataset_records BEGIN
      DELETE FROM dataset_hashes WHERE dataset_id = old.dataset_id AND hash = old.hash AND record_id = old.id;
      INSERT OR IGNORE INTO dataset_hashes (dataset_id, hash, record_id) VALUES (new.dataset_id, new.hash, new.id);
    END;

    INSERT INTO dataset_records_fts(dataset_records_fts, rank) VALUES ('automerge', 16);
    DROP TRIGGER dataset_records_fts_update;
    CREATE TRIGGER dataset_records_fts_update AFTER UPDATE OF text ON dataset_records
      WHEN old.id <= (SELECT indexed_until FROM datasets WHERE id = old.dataset_id) BEGIN
      DELETE FROM dataset_records_fts WHERE rowid = old.id;
      INSERT INTO dataset_records_fts(rowid, text) VALUES (new.id, new.text);
    END;
  `,
};
