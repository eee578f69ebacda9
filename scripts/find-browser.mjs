// The Chromium that Playwright drives: $DEEPEN_E2E_BROWSER, else a system
// Chromium/Chrome. We never download a browser (these machines cannot).
import { existsSync } from 'node:fs';

const candidates = {
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'],
  darwin: ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'],
  win32: [
    `${process.env['PROGRAMFILES'] ?? 'C:\\Program Files'}\\Google\\Chrome\\Application\\chrome.exe`,
    `${process.env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)'}\\Google\\Chrome\\Application\\chrome.exe`,
    `${process.env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)'}\\Microsoft\\Edge\\Application\\msedge.exe`,
  ],
};

export function findBrowser() {
  if (process.env.DEEPEN_E2E_BROWSER) return process.env.DEEPEN_E2E_BROWSER;
  return (candidates[process.platform] ?? []).find((p) => existsSync(p)) ?? null;
}
