// Source-mode worker bootstrap (tests, tsx): Node 20 does not apply the
// parent's --import loader inside worker threads, so load the TypeScript
// worker entry through tsx's API. The built app never uses this file.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.__tsEntry, import.meta.url);
