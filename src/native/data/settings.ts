// SQL for user settings: one row per key, values stored as JSON.
import type { Db } from './db';

export function readSettings(db: Db): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of db.prepare(`SELECT key, value FROM settings`).all() as { key: string; value: string }[]) {
    try {
      out[row.key] = JSON.parse(row.value);
    } catch {
      // a value we cannot read is treated as unset rather than breaking start-up
    }
  }
  return out;
}

export function writeSettings(db: Db, patch: Record<string, unknown>): void {
  const put = db.prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`);
  db.transaction(() => {
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) put.run(k, JSON.stringify(v));
  })();
}
