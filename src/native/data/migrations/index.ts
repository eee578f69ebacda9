// Numbered migrations, one file each, applied in order by `migrate` in ../db.
// To add one: create NNN_name.ts with the next number, exporting a Migration,
// and list it here. Versions must run 1, 2, 3, … without gaps: the schema
// version only goes up, so a migration slotted into a gap would never run.
import { migration001 } from './001_core';
import { migration002 } from './002_models';
import { migration003 } from './003_datasets';
import { migration004 } from './004_conversations';
import { migration005 } from './005_dataset_bulk_load';

export interface Migration {
  version: number;
  name: string;
  /** SQL run inside the migration transaction. */
  up: string;
}

export const migrations: Migration[] = [migration001, migration002, migration003, migration004, migration005];
