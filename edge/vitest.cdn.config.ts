import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { EDGE_TEST_BINDINGS } from './src/test-support/test-bindings.ts';
import { TEST_CDNS } from './src/test-support/test-cdns.ts';

/**
 * The `edge-cdn` project: the same Worker inside workerd, with CDNs configured, for the multi-CDN
 * tests (`*.cdn.test.ts`). Bindings are fixed per project, so CDN-less tests stay in `edge`.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: {
          ...EDGE_TEST_BINDINGS,
          CDNS: JSON.stringify(TEST_CDNS),
          // Long, so the CdnHealth alarm rarely probes on its own during a test; tests probe explicitly.
          CDN_PROBE_INTERVAL_SECONDS: '60',
          CDN_ERROR_THRESHOLD: '3',
        },
      },
    }),
  ],
  test: {
    name: 'edge-cdn',
    root: import.meta.dirname,
    include: ['src/**/*.cdn.test.ts'],
  },
});
