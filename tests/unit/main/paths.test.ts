import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appFiles, electronSqliteDir, electronSqliteMarker, findElectronSqliteBinding } from '../../../src/main/paths';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'deepen-paths-'));
  fs.mkdirSync(path.join(root, 'node_modules', 'better-sqlite3'), { recursive: true });
  fs.writeFileSync(path.join(root, 'node_modules', 'better-sqlite3', 'package.json'), JSON.stringify({ version: '12.11.1' }));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function build(marker: object | null) {
  const dir = electronSqliteDir(root);
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'build', 'Release', 'better_sqlite3.node'), '');
  if (marker) fs.writeFileSync(path.join(dir, electronSqliteMarker), JSON.stringify(marker));
  return path.join(dir, 'build', 'Release', 'better_sqlite3.node');
}

describe('appFiles', () => {
  it('finds the built parts under out/', () => {
    const f = appFiles('/app');
    expect(f.engine).toBe(path.join('/app', 'out', 'native', 'engine.js'));
    expect(f.preload).toBe(path.join('/app', 'out', 'preload', 'index.cjs'));
    expect(f.rendererIndex).toBe(path.join('/app', 'out', 'renderer', 'index.html'));
  });
});

describe('findElectronSqliteBinding', () => {
  it('returns the binary built for this Electron, architecture and better-sqlite3', () => {
    const file = build({ electron: '40.10.2', arch: 'x64', betterSqlite3: '12.11.1' });
    expect(findElectronSqliteBinding(root, '40.10.2', 'x64')).toEqual({ file });
  });

  it('says how to build it when it is missing', () => {
    const r = findElectronSqliteBinding(root, '40.10.2', 'x64');
    expect(r.file).toBeNull();
    expect(r.problem).toMatch(/npm run postinstall/);
  });

  it('refuses a binary without a marker, or for another Electron, architecture or better-sqlite3', () => {
    build(null);
    expect(findElectronSqliteBinding(root, '40.10.2', 'x64').problem).toMatch(/missing or unreadable/);
    build({ electron: '39.0.0', arch: 'x64', betterSqlite3: '12.11.1' });
    expect(findElectronSqliteBinding(root, '40.10.2', 'x64').problem).toMatch(/built for Electron 39\.0\.0 \(x64\), but this is Electron 40\.10\.2/);
    build({ electron: '40.10.2', arch: 'arm64', betterSqlite3: '12.11.1' });
    expect(findElectronSqliteBinding(root, '40.10.2', 'x64').file).toBeNull();
    build({ electron: '40.10.2', arch: 'x64', betterSqlite3: '12.9.0' });
    expect(findElectronSqliteBinding(root, '40.10.2', 'x64').problem).toMatch(/version 12\.9\.0, but version 12\.11\.1 is installed/);
  });
});
