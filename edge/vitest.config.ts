import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** The `edge` project: Worker and Durable Object tests inside workerd, configured from wrangler.toml. */
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
          // Long enough that no alarm fires during a test; liveness tests backdate activity instead.
          LIVENESS_TIMEOUT_SECONDS: '30',
        },
      },
    }),
  ],
  test: {
    name: 'edge',
    root: import.meta.dirname,
    include: ['src/**/*.test.ts'],
    // Run by the `edge-cdn` project (vitest.cdn.config.ts), whose Worker has CDNs configured.
    exclude: ['src/**/*.cdn.test.ts'],
  },
});
