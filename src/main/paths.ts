// Where the desktop app finds its parts, relative to the app folder (the one
// holding package.json; `app.getAppPath()`). No electron import: unit-tested.
import fs from 'node:fs';
import path from 'node:path';

export interface AppFiles {
  /** the built renderer page loaded into the window */
  rendererIndex: string;
  /** the sandboxed preload, CommonJS (see electron.vite.config.ts) */
  preload: string;
  /** the engine entry started with utilityProcess.fork (scripts/build-engine.mjs) */
  engine: string;
}

export function appFiles(appRoot: string): AppFiles {
  return {
    rendererIndex: path.join(appRoot, 'out', 'renderer', 'index.html'),
    preload: path.join(appRoot, 'out', 'preload', 'index.cjs'),
    engine: path.join(appRoot, 'out', 'native', 'engine.js'),
  };
}

/**
 * The better-sqlite3 built for Electron's ABI by scripts/postinstall.mjs. It
 * lives beside, not inside, node_modules/better-sqlite3, whose own build
 * stays for plain Node (tests, the CLI). Keep in step with postinstall.mjs.
 */
export function electronSqliteDir(appRoot: string): string {
  return path.join(appRoot, 'node_modules', '.deepen-electron', 'better-sqlite3');
}

export const electronSqliteMarker = 'deepen-electron.json';

export interface ElectronSqliteBinding {
  /** the binary to pass as DEEPEN_SQLITE_BINDING, or null when none fits */
  file: string | null;
  /** why none fits, in words for a log line or a dialog */
  problem?: string;
}

/** What postinstall records beside the binary it built. */
export interface ElectronSqliteMarker {
  electron: string;
  arch: string;
  /** the better-sqlite3 version copied; its JS (from node_modules) must match the binary */
  betterSqlite3: string;
}

/**
 * Finds the Electron-ABI better-sqlite3 binary and checks that it was built
 * for this Electron, this architecture and the installed better-sqlite3 (the
 * marker file postinstall writes): a binary for another ABI fails to load
 * with a cryptic NODE_MODULE_VERSION error, and one from another
 * better-sqlite3 version may not match the JavaScript that drives it.
 */
export function findElectronSqliteBinding(appRoot: string, electronVersion: string, arch: string): ElectronSqliteBinding {
  const dir = electronSqliteDir(appRoot);
  const file = path.join(dir, 'build', 'Release', 'better_sqlite3.node');
  const fix = 'Run `npm run postinstall` in the Deepen folder to build it.';
  if (!fs.existsSync(file)) return { file: null, problem: `better-sqlite3 has not been built for Electron (${file} is missing). ${fix}` };
  let marker: Partial<Record<keyof ElectronSqliteMarker, unknown>>;
  let installed: unknown;
  try {
    marker = JSON.parse(fs.readFileSync(path.join(dir, electronSqliteMarker), 'utf8')) as typeof marker;
    installed = (JSON.parse(fs.readFileSync(path.join(appRoot, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    return { file: null, problem: `${path.join(dir, electronSqliteMarker)} is missing or unreadable, so the build of better-sqlite3 for Electron cannot be trusted. ${fix}` };
  }
  if (marker.electron !== electronVersion || marker.arch !== arch) {
    return {
      file: null,
      problem: `better-sqlite3 was built for Electron ${String(marker.electron)} (${String(marker.arch)}), but this is Electron ${electronVersion} (${arch}). ${fix}`,
    };
  }
  if (marker.betterSqlite3 !== installed) {
    return { file: null, problem: `The Electron build of better-sqlite3 is version ${String(marker.betterSqlite3)}, but version ${String(installed)} is installed. ${fix}` };
  }
  return { file };
}
