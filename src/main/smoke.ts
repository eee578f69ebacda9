// A self-check of the running desktop app, for tests/unit/main/electron-smoke.test.ts
// on machines that have Electron's binary: with DEEPEN_SMOKE_TEST=<file> (and
// only in an unpackaged app), main loads the page, asks it what it can reach,
// writes the answers to <file> as JSON and quits.
import { app, type BrowserWindow } from 'electron';
import fs from 'node:fs';

export const smokeTestFile = !app.isPackaged ? process.env.DEEPEN_SMOKE_TEST || null : null;

// Runs in the page's main world, as page code would. Ids far above the
// client's, so that its own calls are not confused with ours.
const probe = `(async () => {
  const out = {};
  out.bridgeKeys = Object.keys(window.deepen ?? {}).sort();
  out.nodeReachable = typeof require !== 'undefined' || typeof process !== 'undefined';
  try { eval('1'); out.evalBlocked = false; } catch { out.evalBlocked = true; }
  const answers = new Map();
  window.deepen.onMessage((m) => { if (m.t === 'res') answers.set(m.id, m); });
  window.deepen.send({ t: 'req', id: 2000000001, method: 'engine.ping', params: {} });
  window.deepen.send({ t: 'req', id: 2000000002, method: 'engine.notInTheContract', params: {} });
  const until = Date.now() + 20000;
  while (!answers.has(2000000001) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  out.ping = answers.get(2000000001) ?? null;
  out.foreignMethodAnswered = answers.has(2000000002);
  return out;
})()`;

export function runSmokeTest(win: BrowserWindow, file: string): void {
  win.webContents.once('did-finish-load', () => {
    win.webContents
      .executeJavaScript(probe)
      .then((result: unknown) => ({ ok: true, result }))
      .catch((err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }))
      .then((report) => {
        fs.writeFileSync(file, JSON.stringify(report, null, 2));
        app.quit();
      });
  });
}

/** The engine did not start: no dialog to wait on in a test, just the reason. */
export function failSmokeTest(file: string, message: string): void {
  fs.writeFileSync(file, JSON.stringify({ ok: false, error: `engine: ${message}` }, null, 2));
  app.exit(1);
}
