import { defineConfig } from 'vitest/config';

/**
 * One test command, three projects:
 * - `edge`: the Worker and its Durable Objects inside workerd (edge/vitest.config.ts);
 * - `edge-cdn`: the same with three CDNs configured (edge/vitest.cdn.config.ts, `*.cdn.test.ts`);
 * - `node`: shared pure code, origin units and integration tests against real local servers;
 * - `e2e`: the whole chain on real components, run serially (they share 2 cores with ffmpeg).
 */
export default defineConfig({
  test: {
    projects: [
      'edge/vitest.config.{ts,mts}',
      'edge/vitest.cdn.config.ts',
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['shared/src/**/*.test.ts', 'origin/src/**/*.test.ts', 'edge/deploy/**/*.test.ts', 'infra/**/*.test.ts', 'test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The abuse suite (issue 10): attacks on the real stack, serial like e2e.
        test: {
          name: 'abuse',
          environment: 'node',
          include: ['test/abuse/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 150_000,
        },
      },
    ],
  },
});
