import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
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
          ADMIN_TOKEN: 'test-admin',
          ORIGIN_SECRET: 'test-origin-secret',
          PUBLIC_BASE_URL: 'https://edge.test',
          ORIGIN_PULL_URL: 'http://origin.test/media',
          LIVENESS_TIMEOUT_SECONDS: '30',
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
