import { defineConfig } from 'vitest/config';

// Unit tests (tests/unit, mirroring src) and engine tests (tests/engine, against
// ../shared/fixtures). Browser end-to-end tests run under Playwright instead.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/engine/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
