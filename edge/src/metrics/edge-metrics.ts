/**
 * The edge's metric families for `GET /v1/metrics`: stream counts, viewers, QoE and live-edge age
 * from the registry's summaries (one registry read per scrape, never one StreamDO call per
 * stream), CDN health, and this isolate's own counters. Pure: the route gathers the inputs.
 */
import type { StreamStatus } from '../../../shared/src/types.ts';
import type { IsolateMetrics } from './isolate-metrics.ts';
import type { MetricFamily, Sample } from './prometheus-text.ts';
import type { RegistryMetrics } from './stream-metrics-summary.ts';

/** Per-stream series are kept for the streams with the most viewers only, so label sets stay bounded. */
export const STREAM_LABEL_LIMIT = 50;
const STATUSES: readonly StreamStatus[] = ['idle', 'live', 'error', 'ended'];

/** Everything one scrape reports. */
export interface EdgeMetricsInput {
  now: number;
  registry: RegistryMetrics;
  /** Every configured CDN and whether CdnHealth has it up. */
  cdns: readonly { id: string; up: boolean }[];
  isolate: {
    startedAt: number;
    stats: { playlistRequests: number; beacons: number; doCalls: number };
    metrics: IsolateMetrics;
  };
}

const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: 'gauge', samples });
const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: 'counter', samples });
/** One unlabelled sample, or none when there is nothing to average (an absent series, not a false 0). */
const single = (value: number | null): Sample[] => (value === null ? [] : [{ value }]);
const round = (value: number, digits = 4) => Math.round(value * 10 ** digits) / 10 ** digits;

/** `sum(value × weight) / sum(weight)`, or null over nothing. */
function weightedMean(items: readonly { value: number; weight: number }[]): number | null {
  const total = items.reduce((a, i) => a + i.weight, 0);
  return total === 0 ? null : items.reduce((a, i) => a + i.value * i.weight, 0) / total;
}

/** The metric families of one scrape. */
export function edgeMetricFamilies({ now, registry, cdns, isolate }: EdgeMetricsInput): MetricFamily[] {
  const live = registry.live.map((s) => s.summary);
  const withAge = live.filter((s) => s.liveEdgeAgeMs !== null);
  // QoE is weighted by current viewers (a stream with one viewer does not speak for a thousand);
  // streams with beacons but nobody watching right now still count, with weight 1.
  const withQoe = live.filter((s) => s.beacons > 0);
  const rebufferRatio = weightedMean(withQoe.map((s) => ({ value: s.rebufferRatio, weight: Math.max(1, s.viewers) })));
  const startups = live.filter((s) => s.startupMsP50 !== null).map((s) => ({ value: s.startupMsP50!, weight: Math.max(1, s.viewers) }));
  const top = [...registry.live].sort((a, b) => b.summary.viewers - a.summary.viewers || a.id.localeCompare(b.id)).slice(0, STREAM_LABEL_LIMIT);
  const oldest = live.length ? Math.min(...live.map((s) => s.at)) : null;
  const m = isolate.metrics;

  return [
    gauge('livestream_total_viewers', 'Current viewers over all live streams', [{ value: live.reduce((a, s) => a + s.viewers, 0) }]),
    gauge(
      'livestream_average_latency_ms',
      "Mean over live streams of how far the newest listed segment's last frame lags the wall clock, ms",
      single(withAge.length ? Math.round(withAge.reduce((a, s) => a + s.liveEdgeAgeMs!, 0) / withAge.length) : null),
    ),
    gauge('livestream_buffer_health_percent', 'Share of watch time spent playing rather than rebuffering, viewer-weighted over live streams, percent', single(rebufferRatio === null ? null : round(100 * (1 - rebufferRatio), 2))),
    gauge('edgelive_streams', 'Streams by status (deleted ones excluded)', STATUSES.map((status) => ({ labels: { status }, value: registry.statusCounts[status] ?? 0 }))),
    gauge('edgelive_stream_viewers', `Current viewers of the ${STREAM_LABEL_LIMIT} most watched live streams`, top.map((s) => ({ labels: { stream: s.id }, value: s.summary.viewers }))),
    gauge(
      'edgelive_stream_live_edge_age_seconds',
      `Live-edge age of the ${STREAM_LABEL_LIMIT} most watched live streams, seconds`,
      top.filter((s) => s.summary.liveEdgeAgeMs !== null).map((s) => ({ labels: { stream: s.id }, value: s.summary.liveEdgeAgeMs! / 1000 })),
    ),
    gauge('edgelive_qoe_rebuffer_ratio', 'Rebuffering time over watch time, viewer-weighted over live streams (0-1)', single(rebufferRatio === null ? null : round(rebufferRatio))),
    gauge('edgelive_qoe_startup_ms', 'Median startup time, viewer-weighted mean over live streams, ms', single(startups.length ? Math.round(weightedMean(startups)!) : null)),
    gauge('edgelive_qoe_beacons', 'QoE beacons received by the live streams so far', [{ value: live.reduce((a, s) => a + s.beacons, 0) }]),
    gauge('edgelive_qoe_rebuffers', 'Rebuffering events reported by the live streams so far', [{ value: live.reduce((a, s) => a + s.rebufferCount, 0) }]),
    gauge('edgelive_stream_summary_age_seconds', "Age of the oldest live stream's summary in the registry (refreshed every 10 s)", single(oldest === null ? null : Math.max(0, now - oldest) / 1000)),
    gauge('edgelive_cdn_up', 'CDN health as CdnHealth holds it (1 up, 0 down)', cdns.map((c) => ({ labels: { cdn: c.id }, value: c.up ? 1 : 0 }))),
    counter('edgelive_cdn_error_beacons_total', 'Player CDN error beacons accepted by this isolate', [...m.cdnErrorBeacons.values()].map((e) => ({ labels: { cdn: e.cdn, kind: e.kind }, value: e.count }))),
    counter('edgelive_edge_playlist_requests_total', 'Playlist requests (master and media) served by this isolate', [{ value: isolate.stats.playlistRequests }]),
    counter('edgelive_edge_media_requests_total', 'Media file requests (init segments, segments) answered by this isolate', [{ value: m.mediaRequests }]),
    counter('edgelive_edge_beacons_total', 'QoE beacons accepted by this isolate', [{ value: isolate.stats.beacons }]),
    counter('edgelive_edge_streamdo_calls_total', 'StreamDO calls this isolate made for viewers (playlist renders, viewer flushes)', [{ value: isolate.stats.doCalls }]),
    {
      name: 'edgelive_edge_playlist_seconds',
      help: 'Time to answer a playlist from the cache or a StreamDO render, in this isolate',
      type: 'histogram',
      samples: [...m.playlistSeconds.cache.samples({ source: 'cache' }), ...m.playlistSeconds.render.samples({ source: 'render' })],
    },
    gauge('edgelive_edge_isolate_start_time_seconds', 'When the isolate answering this scrape started (its counters start at 0 then)', [{ value: Math.floor(isolate.startedAt / 1000) }]),
  ];
}
