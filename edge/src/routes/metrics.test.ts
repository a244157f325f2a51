import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { streamMetricsSummary } from '../metrics/stream-metrics-summary.ts';
import { admin, liveStream } from '../test-support/edge-client.ts';

/** A registry instance of this file's own, so counts do not depend on other tests' streams. */
function registry(name: string) {
  return env.STREAM_REGISTRY.get(env.STREAM_REGISTRY.idFromName(name));
}

describe('StreamRegistry metrics', () => {
  it('keeps the newest summary per live stream and counts streams by status', async () => {
    const r = registry('metrics-counts');
    const base = { name: null, createdAt: 1, updatedAt: 1, deleted: false };
    const first = streamMetricsSummary({ viewers: { current: 3, peak: 3, total: 3, renditions: {} }, qoe: { beacons: 2, startupMsP50: 800, rebufferCount: 0, rebufferRatio: 0, switches: 0 } }, 10_000, 12_000);
    await r.report({ ...base, id: 'live000000000001', status: 'live', version: 2, metrics: first });
    // An older summary (same or older version) never replaces a newer one.
    await r.report({ ...base, id: 'live000000000001', status: 'live', version: 2, metrics: { ...first, at: 11_000, viewers: 99 } });
    await r.report({ ...base, id: 'idle000000000001', status: 'idle', version: 1 });
    await r.report({ ...base, id: 'gone000000000001', status: 'live', version: 1, metrics: first });
    await r.report({ ...base, id: 'gone000000000001', status: 'live', version: 2, deleted: true });
    expect(await r.metrics()).toEqual({
      statusCounts: { idle: 1, live: 1 },
      live: [{ id: 'live000000000001', summary: { at: 12_000, viewers: 3, beacons: 2, rebufferRatio: 0, rebufferCount: 0, startupMsP50: 800, liveEdgeAgeMs: 2000 } }],
    });
  });
});

describe('GET /v1/metrics', () => {
  it('refuses without the admin token', async () => {
    const res = await admin('GET', '/v1/metrics', undefined, 'wrong');
    expect(res.status).toBe(401);
  });

  it('answers Prometheus text with the live streams the StreamDOs reported, in one registry read', async () => {
    // Going live is a status change: the StreamDO's report carries its first summary.
    const { id } = await liveStream();
    const res = await admin('GET', '/v1/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    for (const name of ['livestream_total_viewers', 'livestream_average_latency_ms', 'livestream_buffer_health_percent', 'edgelive_streams', 'edgelive_cdn_up', 'edgelive_edge_playlist_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain(`edgelive_stream_viewers{stream="${id}"} 0`);
    expect(text).toMatch(/^edgelive_streams\{status="live"\} [1-9]\d*$/m);
  });
});
