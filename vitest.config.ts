import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'host/src/**/*.test.ts', 'extension/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start daemons and emulators; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
