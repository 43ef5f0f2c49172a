import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Most test files wait on child processes and loopback HTTP: two at a time halve the run even
    // on a machine of two cores, where vitest would run one (cores less one).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 30_000,
    restoreMocks: true,
  },
});
