/**
 * Counters this Worker isolate keeps for `GET /v1/metrics`, next to `edgeStats`. Per isolate, like
 * `/v1/edge/stats`: a scrape sees the isolate that answered it (docs/operations.md#edge-metrics).
 */
import { Histogram } from './prometheus-text.ts';

/** Seconds; a blocking playlist reload may be held for up to three target durations. */
export const PLAYLIST_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Where a playlist answer came from: the Cache API, or a StreamDO render (ours or one we joined). */
export type PlaylistSource = 'cache' | 'render';

/** One isolate's playlist latency and CDN error beacons. */
export class IsolateMetrics {
  readonly playlistSeconds: Record<PlaylistSource, Histogram> = {
    cache: new Histogram(PLAYLIST_SECONDS_BUCKETS),
    render: new Histogram(PLAYLIST_SECONDS_BUCKETS),
  };
  /** Accepted CDN error beacons by `cdn` (a configured id) and `kind`. */
  readonly cdnErrorBeacons = new Map<string, { cdn: string; kind: string; count: number }>();
  /** Media file requests (init segments, segments) this isolate answered. */
  mediaRequests = 0;

  playlistServed(source: PlaylistSource, ms: number): void {
    this.playlistSeconds[source].observe(ms / 1000);
  }

  cdnErrorBeacon(cdn: string, kind: string): void {
    const key = `${cdn}\n${kind}`;
    const entry = this.cdnErrorBeacons.get(key) ?? { cdn, kind, count: 0 };
    entry.count++;
    this.cdnErrorBeacons.set(key, entry);
  }
}

/** This isolate's metrics. */
export const isolateMetrics = new IsolateMetrics();
