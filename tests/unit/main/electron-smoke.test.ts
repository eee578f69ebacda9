// Starts the real desktop app and asks its page what it can reach (see
// src/main/smoke.ts). Needs Electron's binary and a display; where either is
// missing (as on machines that cannot download Electron), it is skipped with
// a notice rather than passing silently.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { electronBinary } from '../../../scripts/lib/electron.mjs';

const root = path.resolve(__dirname, '../../..');
const electron = electronBinary();
const hasDisplay = process.platform !== 'linux' || !!(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const skipReason = !electron
  ? "Electron's binary is not installed (it could not be downloaded)"
  : !hasDisplay
    ? 'there is no display (set DISPLAY, e.g. run under xvfb-run)'
    : null;
if (skipReason) console.warn(`NOTICE: skipping the Electron smoke test: ${skipReason}. The desktop app was not started; its pure logic is tested in tests/unit/main.`);

describe.skipIf(!!skipReason)('the desktop app (Electron)', () => {
  it('gives its sandboxed page the contract and nothing else', () => {
    for (const [script, args] of [
      ['scripts/build-engine.mjs', []],
      ['node_modules/electron-vite/bin/electron-vite.js', ['build']],
    ] as const) {
      const r = spawnSync(process.execPath, [path.join(root, script), ...args], { cwd: root, stdio: 'inherit' });
      expect(r.status, `${script} ${args.join(' ')}`).toBe(0);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepen-electron-'));
    const report = path.join(dir, 'smoke.json');
    const env: NodeJS.ProcessEnv = { ...process.env, DEEPEN_SMOKE_TEST: report, DEEPEN_HOME: path.join(dir, 'home') };
    delete env.ELECTRON_RUN_AS_NODE;
    // Chromium refuses to run as root with its OS sandbox (CI containers); the page's JS sandbox stays on.
    const extra = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
    const r = spawnSync(electron!, [root, ...extra], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    expect(fs.existsSync(report), `no report; Electron said:\n${r.stderr}`).toBe(true);
    const { ok, result, error } = JSON.parse(fs.readFileSync(report, 'utf8'));
    expect(error).toBeUndefined();
    expect(ok).toBe(true);
    expect(result.bridgeKeys).toEqual(['onClose', 'onMessage', 'openExternal', 'pickPath', 'send']);
    expect(result.nodeReachable).toBe(false);
    expect(result.evalBlocked).toBe(true); // the CSP is in force
    expect(result.ping?.ok).toBe(true);
    expect(result.foreignMethodAnswered).toBe(false); // dropped by the preload
    fs.rmSync(dir, { recursive: true, force: true });
  }, 240_000);
});
