import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { EDGE_TEST_BINDINGS } from './src/test-support/test-bindings.ts';

/** The `edge` project: Worker and Durable Object tests inside workerd, configured from wrangler.toml. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: EDGE_TEST_BINDINGS,
        // The plugin drops wrangler.toml's [assets] unless a directory is given here (the watch page).
        assets: { directory: `${import.meta.dirname}/public`, binding: 'ASSETS' },
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
