import type { Migration } from './index';

// The model registry: local Hugging Face folders Deepen knows, with their
// summary (JSON, recomputable from the folder) and lineage: which model each
// was expanded or trained from. A row never owns its files: removing it
// leaves the folder alone unless the user asks otherwise.
export const migration002: Migration = {
  version: 2,
  name: 'models: registry with summary and lineage',
  up: `
    CREATE TABLE models (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL,
      path        TEXT NOT NULL UNIQUE,
      summary     TEXT NOT NULL,
      kind        TEXT NOT NULL CHECK (kind IN ('imported','expanded','trained')),
      parent_id   TEXT REFERENCES models(id) ON DELETE SET NULL,
      plan        TEXT,
      origin      TEXT,
      created_at  INTEGER NOT NULL
    );
    CREATE INDEX models_parent ON models(parent_id);
    CREATE INDEX models_created ON models(created_at DESC);
  `,
};
