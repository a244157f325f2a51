import { describe, expect, it } from 'vitest';
import { edgeMetricFamilies, STREAM_LABEL_LIMIT } from './edge-metrics.ts';
import { IsolateMetrics } from './isolate-metrics.ts';
import { prometheusText } from './prometheus-text.ts';
import type { StreamMetricsSummary } from './stream-metrics-summary.ts';

const NOW = 1_700_000_000_000;
const summary = (over: Partial<StreamMetricsSummary>): StreamMetricsSummary => ({
  at: NOW - 4000, viewers: 0, beacons: 0, rebufferRatio: 0, rebufferCount: 0, startupMsP50: null, liveEdgeAgeMs: null, ...over,
});

/** The sample lines of `name` (without HELP/TYPE). */
function lines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
}

describe('edgeMetricFamilies', () => {
  const metrics = new IsolateMetrics();
  metrics.cdnErrorBeacon('cdn-a', 'http');
  metrics.cdnErrorBeacon('cdn-a', 'http');
  metrics.playlistServed('cache', 3);
  const text = prometheusText(
    edgeMetricFamilies({
      now: NOW,
      registry: {
        statusCounts: { live: 2, ended: 5 },
        live: [
          { id: 'aaaaaaaaaaaaaaaa', summary: summary({ viewers: 30, beacons: 40, rebufferRatio: 0.1, rebufferCount: 7, startupMsP50: 900, liveEdgeAgeMs: 3000 }) },
          { id: 'bbbbbbbbbbbbbbbb', summary: summary({ at: NOW - 9000, viewers: 10, beacons: 12, rebufferRatio: 0.02, rebufferCount: 1, startupMsP50: 1300, liveEdgeAgeMs: 5000 }) },
        ],
      },
      cdns: [{ id: 'cdn-a', up: true }, { id: 'cdn-b', up: false }],
      isolate: { startedAt: NOW - 60_000, stats: { playlistRequests: 120, beacons: 9, doCalls: 4 }, metrics },
    }),
  );

  it('sums viewers and averages latency and buffer health over the live streams (seed metric names)', () => {
    expect(lines(text, 'livestream_total_viewers')).toEqual(['livestream_total_viewers 40']);
    expect(lines(text, 'livestream_average_latency_ms')).toEqual(['livestream_average_latency_ms 4000']);
    // (0.1 × 30 + 0.02 × 10) / 40 = 0.08 rebuffering → 92 % playing.
    expect(lines(text, 'livestream_buffer_health_percent')).toEqual(['livestream_buffer_health_percent 92']);
    expect(lines(text, 'edgelive_qoe_rebuffer_ratio')).toEqual(['edgelive_qoe_rebuffer_ratio 0.08']);
    expect(lines(text, 'edgelive_qoe_startup_ms')).toEqual(['edgelive_qoe_startup_ms 1000']);
    expect(lines(text, 'edgelive_qoe_rebuffers')).toEqual(['edgelive_qoe_rebuffers 8']);
  });

  it('labels streams by status and the most watched streams by id', () => {
    expect(lines(text, 'edgelive_streams')).toEqual(['edgelive_streams{status="idle"} 0', 'edgelive_streams{status="live"} 2', 'edgelive_streams{status="error"} 0', 'edgelive_streams{status="ended"} 5']);
    expect(lines(text, 'edgelive_stream_viewers')).toEqual(['edgelive_stream_viewers{stream="aaaaaaaaaaaaaaaa"} 30', 'edgelive_stream_viewers{stream="bbbbbbbbbbbbbbbb"} 10']);
    expect(lines(text, 'edgelive_stream_live_edge_age_seconds')).toEqual(['edgelive_stream_live_edge_age_seconds{stream="aaaaaaaaaaaaaaaa"} 3', 'edgelive_stream_live_edge_age_seconds{stream="bbbbbbbbbbbbbbbb"} 5']);
    expect(lines(text, 'edgelive_stream_summary_age_seconds')).toEqual(['edgelive_stream_summary_age_seconds 9']);
  });

  it('reports CDN health and this isolate counters', () => {
    expect(lines(text, 'edgelive_cdn_up')).toEqual(['edgelive_cdn_up{cdn="cdn-a"} 1', 'edgelive_cdn_up{cdn="cdn-b"} 0']);
    expect(lines(text, 'edgelive_cdn_error_beacons_total')).toEqual(['edgelive_cdn_error_beacons_total{cdn="cdn-a",kind="http"} 2']);
    expect(lines(text, 'edgelive_edge_playlist_requests_total')).toEqual(['edgelive_edge_playlist_requests_total 120']);
    expect(lines(text, 'edgelive_edge_streamdo_calls_total')).toEqual(['edgelive_edge_streamdo_calls_total 4']);
    expect(lines(text, 'edgelive_edge_playlist_seconds_count')).toEqual(['edgelive_edge_playlist_seconds_count{source="cache"} 1', 'edgelive_edge_playlist_seconds_count{source="render"} 0']);
  });

  it('leaves averages absent, not 0, when no stream is live', () => {
    const empty = prometheusText(edgeMetricFamilies({ now: NOW, registry: { statusCounts: {}, live: [] }, cdns: [], isolate: { startedAt: NOW, stats: { playlistRequests: 0, beacons: 0, doCalls: 0 }, metrics: new IsolateMetrics() } }));
    expect(lines(empty, 'livestream_total_viewers')).toEqual(['livestream_total_viewers 0']);
    expect(lines(empty, 'livestream_average_latency_ms')).toEqual([]);
    expect(lines(empty, 'livestream_buffer_health_percent')).toEqual([]);
    expect(empty).toContain('# TYPE livestream_buffer_health_percent gauge');
  });

  it(`keeps per-stream series to the ${STREAM_LABEL_LIMIT} most watched streams`, () => {
    const many = Array.from({ length: STREAM_LABEL_LIMIT + 5 }, (_, i) => ({ id: `s${String(i).padStart(15, '0')}`, summary: summary({ viewers: i }) }));
    const out = prometheusText(edgeMetricFamilies({ now: NOW, registry: { statusCounts: {}, live: many }, cdns: [], isolate: { startedAt: NOW, stats: { playlistRequests: 0, beacons: 0, doCalls: 0 }, metrics: new IsolateMetrics() } }));
    const viewers = lines(out, 'edgelive_stream_viewers');
    expect(viewers).toHaveLength(STREAM_LABEL_LIMIT);
    expect(viewers[0]).toBe(`edgelive_stream_viewers{stream="s${String(STREAM_LABEL_LIMIT + 4).padStart(15, '0')}"} ${STREAM_LABEL_LIMIT + 4}`);
    expect(lines(out, 'livestream_total_viewers')).toEqual([`livestream_total_viewers ${((STREAM_LABEL_LIMIT + 4) * (STREAM_LABEL_LIMIT + 5)) / 2}`]);
  });
});
