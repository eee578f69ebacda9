// Rebuilds docs/screenshot.png (the README's picture): starts the built
// `deepen serve` on a fresh data folder, registers the llama-tiny fixture from
// ../shared/fixtures, and captures the Expand page with the paper's plan.
// Needs `npm run build` first and a system Chromium (scripts/find-browser.mjs).
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBrowser } from './find-browser.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixture = path.resolve(root, '../shared/fixtures/hf/llama-tiny');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'deepen-shot-'));
const server = spawn(process.execPath, ['out/native/cli.js', 'serve'], { cwd: root, env: { ...process.env, DEEPEN_HOME: home } });
try {
  const url = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^(http:\/\/\S+\?token=\S+)$/m);
      if (m) resolve(m[1]);
    });
    server.on('exit', (c) => reject(new Error(`deepen serve exited with ${c}`)));
  });
  const browser = await chromium.launch({ executablePath: findBrowser() ?? undefined, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  await page.goto(url);
  await page.getByTestId('add-model-path').fill(fixture);
  await page.getByTestId('add-model-submit').click();
  await page.getByTestId('model-detail-name').waitFor();
  await page.getByTestId('open-in-expand').click();
  await page.getByTestId('diagram-new-block').first().waitFor();
  await page.waitForTimeout(500);
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'docs/screenshot.png') });
  await browser.close();
  console.log('wrote docs/screenshot.png');
} finally {
  server.kill('SIGINT');
  fs.rmSync(home, { recursive: true, force: true });
}
