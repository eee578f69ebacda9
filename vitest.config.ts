import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Unit tests (tests/unit, mirroring src) and engine tests (tests/engine, against
// ../shared/fixtures). Browser end-to-end tests run under Playwright instead.
export default defineConfig({
  // the renderer's @shared alias (electron.vite.config.ts), so store tests import as the app does
  resolve: { alias: { '@shared': fileURLToPath(new URL('./src/shared', import.meta.url)) } },
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/engine/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
