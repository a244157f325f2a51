/** Bindings every workerd test project gives the Worker (secrets and vars a test can rely on). */
export const EDGE_TEST_BINDINGS = {
  ADMIN_TOKEN: 'test-admin',
  ORIGIN_SECRET: 'test-origin-secret',
  PLAYBACK_SIGNING_KEY: 'test-playback-signing-key',
  // Short test secrets are accepted only in development.
  EDGELIVE_ENV: 'development',
  PUBLIC_BASE_URL: 'https://edge.test',
  ORIGIN_PULL_URL: 'http://origin.test/media',
  // Long enough that no alarm fires during a test; liveness tests backdate activity instead.
  LIVENESS_TIMEOUT_SECONDS: '30',
  // The fan-out tests play a handful of isolates (fanout/fanout.test.ts); no other test reaches 8.
  FANOUT_ENGAGE_ISOLATES: '8',
  FANOUT_DISENGAGE_SECONDS: '2',
} as const;
