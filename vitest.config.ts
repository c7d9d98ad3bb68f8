import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // A hang guard, not a speed check: on a loaded 2-core machine (load 13) the million-tuple
    // SYN flood took over 60 s, and a timeout there failed a correct run (docs/testing.md).
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
  },
});
