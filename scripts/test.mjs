// `npm test`: the whole suite, in the order that fails fastest.
//   1. type-check node and web code      4. check the Electron main/preload/renderer outputs
//   2. unit + engine tests (vitest)      5. end-to-end tests (Playwright, browser mode)
//   3. build (engine bundle + electron-vite)
// Steps that need something this machine lacks are skipped with a visible
// notice, never silently. Pass --quick to stop after step 2.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBrowser } from './find-browser.mjs';
import { electronVersion } from './lib/electron.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const results = [];

function step(name, cmd, args, env = {}) {
  const started = Date.now();
  process.stdout.write(`\n▶ ${name}: ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env }, shell: process.platform === 'win32' });
  const ok = r.status === 0;
  results.push({ name, outcome: ok ? 'passed' : 'failed', seconds: (Date.now() - started) / 1000 });
  if (!ok) finish(1);
}
function skip(name, why) {
  process.stdout.write(`\n⚠ SKIPPED ${name}: ${why}\n`);
  results.push({ name, outcome: 'skipped', seconds: 0, why });
}
function finish(code) {
  process.stdout.write('\nSummary\n');
  for (const r of results) process.stdout.write(`  ${r.outcome.padEnd(8)} ${r.name.padEnd(32)} ${r.seconds.toFixed(1)} s${r.why ? `  (${r.why})` : ''}\n`);
  const passed = results.filter((r) => r.outcome === 'passed').length;
  const failed = results.filter((r) => r.outcome === 'failed').length;
  const skipped = results.filter((r) => r.outcome === 'skipped').length;
  process.stdout.write(`steps: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exit(code);
}

const bin = (name) => path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

// The electron package carries Electron's types and electron-vite needs it to
// build main and preload. Where its install failed (no binary download), those
// two steps are skipped with a notice and the renderer is built by plain vite.
const hasElectron = electronVersion() !== null;
const noElectron = 'the electron package is not installed (its binary download failed); run `ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install` to check the desktop app here';

step('type-check (engine, shared, tests)', bin('tsc'), ['-p', 'tsconfig.node.json', '--noEmit']);
if (hasElectron) step('type-check (Electron main, preload)', bin('tsc'), ['-p', 'tsconfig.electron.json', '--noEmit']);
else skip('type-check (Electron main, preload)', noElectron);
step('type-check (web)', bin('vue-tsc'), ['-p', 'tsconfig.web.json', '--noEmit']);
step('unit + engine tests', bin('vitest'), ['run']);
if (quick) finish(0);

step('build engine', process.execPath, ['scripts/build-engine.mjs']);
if (hasElectron) step('build app (electron-vite)', bin('electron-vite'), ['build']);
else {
  step('build renderer (vite)', bin('vite'), ['build', '--config', 'renderer.vite.config.ts', '--logLevel', 'warn']);
  skip('build Electron main, preload', noElectron);
}

// Check the outputs the faces load.
for (const f of hasElectron ? ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'] : ['out/renderer/index.html']) {
  if (!existsSync(path.join(root, f))) {
    process.stderr.write(`missing build output ${f}\n`);
    results.push({ name: `build output ${f}`, outcome: 'failed', seconds: 0 });
    finish(1);
  }
}
// The Electron smoke test (tests/unit/main/electron-smoke.test.ts) ran with vitest
// above: it starts the real app where the binary exists and skips with a notice otherwise.
const browser = findBrowser();
if (browser) step('end-to-end (Playwright)', bin('playwright'), ['test'], { DEEPEN_E2E_BROWSER: browser });
else skip('end-to-end (Playwright)', 'no Chromium found: install one (Debian: apt-get install chromium) or set DEEPEN_E2E_BROWSER');
finish(0);
