// Builds main and the preload with the project's electron-vite config into a
// temporary folder and checks what the bundles may load. A sandboxed preload
// can require only `electron` (anything else fails at runtime, in a window
// we cannot open here), and main must not load native addons: they belong
// to the engine process, whose better-sqlite3 is built for Electron's ABI.
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronVersion } from '../../../scripts/lib/electron.mjs';

const root = path.resolve(__dirname, '../../..');
let out: string;
let configDir: string;

// electron-vite reads the electron package's version to pick its targets.
const hasElectron = electronVersion() !== null;
if (!hasElectron) console.warn('NOTICE: skipping the electron-vite bundle checks: the electron package is not installed (its download failed).');

beforeAll(async () => {
  if (!hasElectron) return;
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'deepen-bundle-'));
  // The config file must sit inside the project so that its imports (vite
  // plugins) resolve from our node_modules.
  configDir = fs.mkdtempSync(path.join(root, 'node_modules', '.deepen-bundle-test-'));
  const configFile = path.join(configDir, 'electron.vite.config.mjs');
  fs.writeFileSync(
    configFile,
    `import base from ${JSON.stringify(path.join(root, 'electron.vite.config.ts'))};
export default {
  main: { ...base.main, build: { ...base.main.build, outDir: ${JSON.stringify(path.join(out, 'main'))}, emptyOutDir: true } },
  preload: { ...base.preload, build: { ...base.preload.build, outDir: ${JSON.stringify(path.join(out, 'preload'))}, emptyOutDir: true } },
};
`,
  );
  const { build } = await import('electron-vite');
  await build({ configFile, root, logLevel: 'error' });
}, 120_000);

afterAll(() => {
  if (!hasElectron) return;
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(configDir, { recursive: true, force: true });
});

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe.skipIf(!hasElectron)('electron-vite bundles', () => {
  it('builds a CommonJS preload that requires nothing but electron', () => {
    const code = fs.readFileSync(path.join(out, 'preload', 'index.cjs'), 'utf8');
    expect(code).not.toMatch(/^\s*import\s/m);
    const required = [...code.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(required).toEqual(['electron']);
    expect(code).toContain('exposeInMainWorld');
    // the one exposed name, and no catch-all bridge
    expect(code).not.toMatch(/electronAPI|exposeInMainWorld\(\s*["'](?!deepen)/);
  });

  it('builds an ESM main that imports only electron and node builtins', () => {
    const code = fs.readFileSync(path.join(out, 'main', 'index.js'), 'utf8');
    const imported = [...code.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(imported).toContain('electron');
    for (const name of imported) expect(name === 'electron' || builtins.has(name), name).toBe(true);
    expect(code).not.toMatch(/require\(/);
  });
});
