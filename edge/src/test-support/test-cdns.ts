/** The three CDNs of the `edge-cdn` test project (edge/vitest.cdn.config.ts); their hosts are never resolved. */
export const TEST_CDNS = [
  { id: 'cdn-a', baseUrl: 'https://a.cdn.test', weight: 1, healthUrl: 'https://a.cdn.test/health' },
  { id: 'cdn-b', baseUrl: 'https://b.cdn.test', weight: 1, healthUrl: 'https://b.cdn.test/health' },
  { id: 'cdn-c', baseUrl: 'https://c.cdn.test', weight: 2, healthUrl: 'https://c.cdn.test/health' },
] as const;
