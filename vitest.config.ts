import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // tfjs-wasm is single threaded; two forks match the two cores of the CI machine.
    pool: 'forks',
    maxWorkers: 2,
    // Generous: the hardware and real-MNIST tests build and simulate designs; values are never loosened.
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
