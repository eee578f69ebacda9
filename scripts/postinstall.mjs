// Runs after every `npm install`. Two jobs, neither of which may fail the
// install (a warning and exit code 0 instead; both can be rerun with
// `npm run postinstall`):
//  1. bundle the engine (out/native), so `deepen` works right after install;
//  2. build better-sqlite3 for Electron's ABI, beside the copy plain Node
//     uses, when Electron's binary is here. See docs/native-modules.md.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { electronBinary, electronVersion, root } from './lib/electron.mjs';

const require = createRequire(path.join(root, 'package.json'));
const say = (line) => console.log(`deepen postinstall: ${line}`);
const warn = (line) => console.warn(`deepen postinstall: warning: ${line}`);

function buildEngine() {
  if (!existsSync(path.join(root, 'src/native/cli.ts'))) return; // installed from a package without sources
  try {
    require.resolve('esbuild');
  } catch {
    say('esbuild is not installed (a production install?), so the engine is not bundled; run `npm run build:engine` after installing dev dependencies.');
    return;
  }
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build-engine.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) warn('bundling the engine failed (see above); `deepen` needs it: fix the error and run `npm run build:engine`.');
}

// Keep in step with src/main/paths.ts (electronSqliteDir, electronSqliteMarker).
const electronSqliteDir = path.join(root, 'node_modules', '.deepen-electron', 'better-sqlite3');
const markerFile = path.join(electronSqliteDir, 'deepen-electron.json');
const binaryFile = path.join(electronSqliteDir, 'build', 'Release', 'better_sqlite3.node');

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function run(command, args, cwd) {
  const r = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env, timeout: 15 * 60_000 });
  return r.status === 0;
}

/** node-gyp as npm ships it (npm sets npm_config_node_gyp for scripts), or a local one. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

/** Loads the fresh binary in Electron-as-Node through the installed better-sqlite3 JS, as the engine will. */
function verify(electron, sqliteDir) {
  const check = `const D = require(${JSON.stringify(path.join(sqliteDir, 'lib'))});
const db = new D(':memory:', { nativeBinding: ${JSON.stringify(binaryFile)} });
if (db.prepare('select 41 + 1 as x').get().x !== 42) process.exit(3);`;
  const r = spawnSync(electron, ['-e', check], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) return true;
  warn(`the better-sqlite3 built for Electron does not load in Electron: ${(r.stderr || r.error?.message || `exit code ${r.status}`).trim().split('\n').slice(-3).join(' ')}`);
  return false;
}

function buildSqliteForElectron() {
  const electron = electronBinary();
  if (!electron) {
    say("Electron's binary is not installed, so better-sqlite3 is not built for Electron (the CLI, the tests and browser mode use the Node build).");
    return;
  }
  const version = electronVersion();
  const sqliteDir = path.dirname(require.resolve('better-sqlite3/package.json'));
  const marker = { electron: version, arch: process.arch, betterSqlite3: readJson(path.join(sqliteDir, 'package.json'))?.version };
  const previous = readJson(markerFile);
  if (previous && existsSync(binaryFile) && ['electron', 'arch', 'betterSqlite3'].every((k) => previous[k] === marker[k])) {
    say(`better-sqlite3 for Electron ${version} is up to date.`);
    return;
  }

  say(`building better-sqlite3 ${marker.betterSqlite3} for Electron ${version} (${process.arch}) in ${path.relative(root, electronSqliteDir)}`);
  // A copy, so that node_modules/better-sqlite3/build keeps the Node binary
  // the tests and the CLI load; only its binary is used (the JS is the original's).
  rmSync(electronSqliteDir, { recursive: true, force: true });
  const ownBuild = path.join(sqliteDir, 'build');
  cpSync(sqliteDir, electronSqliteDir, { recursive: true, filter: (p) => p !== ownBuild && !p.startsWith(ownBuild + path.sep) });

  const target = [`--target=${version}`, `--arch=${process.arch}`];
  let built = false;
  try {
    const prebuildInstall = createRequire(path.join(sqliteDir, 'package.json')).resolve('prebuild-install/bin.js');
    built = run(process.execPath, [prebuildInstall, '--runtime=electron', ...target], electronSqliteDir) && existsSync(binaryFile);
  } catch {
    say('prebuild-install is not installed.');
  }
  if (!built) {
    const gyp = nodeGyp();
    if (gyp) {
      say('no prebuilt binary; compiling from source against Electron headers (needs Python and a C++ compiler).');
      const devdir = path.join(os.homedir(), '.electron-gyp'); // Electron headers apart from Node's
      built = run(process.execPath, [gyp, 'rebuild', '--release', ...target, '--dist-url=https://electronjs.org/headers', `--devdir=${devdir}`], electronSqliteDir) && existsSync(binaryFile);
    } else {
      say('node-gyp was not found, so better-sqlite3 cannot be compiled for Electron here.');
    }
  }
  if (!built || !verify(electron, sqliteDir)) {
    warn('better-sqlite3 could not be built for Electron, so the desktop app cannot open its database. Browser mode (`npm start -- --serve`) and the CLI are unaffected. Retry with `npm run postinstall` (see docs/native-modules.md).');
    return;
  }
  mkdirSync(electronSqliteDir, { recursive: true });
  writeFileSync(markerFile, JSON.stringify({ ...marker, builtAt: new Date().toISOString() }, null, 2) + '\n');
  say(`better-sqlite3 for Electron ${version} is ready: ${path.relative(root, binaryFile)}`);
}

for (const [what, step] of [
  ['bundling the engine', buildEngine],
  ['building better-sqlite3 for Electron', buildSqliteForElectron],
]) {
  try {
    step();
  } catch (err) {
    warn(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exitCode = 0;
