// Shared by scripts/start.mjs and scripts/postinstall.mjs: is Electron's
// binary here? The electron package installs without it when its download
// is skipped or impossible (ELECTRON_SKIP_BINARY_DOWNLOAD=1, no network),
// and then `require('electron')` throws instead of returning a path.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'package.json'));

/** The Electron executable, or null when the binary is not installed. */
export function electronBinary() {
  try {
    const executable = require('electron');
    return typeof executable === 'string' && existsSync(executable) ? executable : null;
  } catch {
    return null;
  }
}

/** The installed electron package's version (which is the binary's version), or null. */
export function electronVersion() {
  try {
    return JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version ?? null;
  } catch {
    return null;
  }
}
