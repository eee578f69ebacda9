// What handlers get from the host: the database, the job manager, the data
// folder and a way to emit events. Handlers of each domain live in
// ./handlers/<domain>.ts and return a table typed by the contract.
import type { EventName, PayloadOf } from '../../shared/contract/index';
import type { MethodSpec } from '../../shared/contract/define';
import type { Db } from '../data/db';
import type { JobManager } from './jobs/job-manager';

export interface HostServices {
  readonly db: Db;
  readonly jobs: JobManager;
  readonly dataDir: string;
  readonly databaseFile: string;
  emit<E extends EventName>(event: E, payload: PayloadOf<E>): void;
  /**
   * Registers work to pick up again when a long-lived engine starts (the app,
   * `deepen serve`; not one-shot CLI commands): e.g. search indexing that a
   * cancel or a crash left unfinished.
   */
  atResume(fn: () => void): void;
}

/** A handler table for one domain's methods, typed from its contract object. */
export type HandlersFor<T> = {
  [K in keyof T]: T[K] extends MethodSpec<infer P, infer R> ? (params: P) => Promise<R> | R : never;
};
