// End-to-end tests of the workbench in browser mode (`deepen serve`), driven
// in a system Chromium (scripts/find-browser.mjs); run by `npm test` after the build.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 90_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results/e2e',
  use: {
    launchOptions: {
      executablePath: process.env.DEEPEN_E2E_BROWSER || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    viewport: { width: 1360, height: 860 },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
});
