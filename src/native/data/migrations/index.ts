// Numbered migrations, one file each, applied in order by `migrate` in ../db.
// To add one: create NNN_name.ts exporting a Migration and list it here.
import { migration001 } from './001_core';
import { migration003 } from './003_models';
import { migration004 } from './004_datasets';
import { migration005 } from './005_conversations';

export interface Migration {
  version: number;
  name: string;
  /** SQL run inside the migration transaction. */
  up: string;
}

export const migrations: Migration[] = [migration001, migration003, migration004, migration005];
