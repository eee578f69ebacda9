import type { Migration } from './index';

// Chat conversations and their messages. Settings travel as JSON (the UI's
// sampling panel grows fields faster than a schema should). A message keeps
// the id of the model that wrote it as plain text, not a foreign key: removing
// a model from the registry must not rewrite chat history. Message text is
// indexed with FTS5 as an external-content table kept in step by triggers, so
// the text is stored once.
export const migration004: Migration = {
  version: 4,
  name: 'conversations: conversations, messages, full-text search',
  up: `
    CREATE TABLE conversations (
      id            TEXT PRIMARY KEY,
      title         TEXT NOT NULL DEFAULT '',
      system_prompt TEXT NOT NULL DEFAULT '',
      model_ids     TEXT NOT NULL DEFAULT '[]',
      sampling      TEXT NOT NULL DEFAULT '{}',
      created_at    INTEGER NOT NULL,
      updated_at    INTEGER NOT NULL
    );
    CREATE INDEX conversations_updated ON conversations(updated_at DESC);
    CREATE TABLE messages (
      id              TEXT PRIMARY KEY,
      conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      seq             INTEGER NOT NULL,
      role            TEXT NOT NULL CHECK (role IN ('system','user','assistant')),
      content         TEXT NOT NULL,
      model_id        TEXT,
      stats           TEXT,
      created_at      INTEGER NOT NULL,
      UNIQUE (conversation_id, seq)
    );
    CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
      INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
      INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
    END;
  `,
};
