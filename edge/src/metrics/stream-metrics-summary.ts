/**
 * The few numbers a StreamDO pushes to the registry with its report, so `GET /v1/metrics` reads one
 * object per scrape instead of calling every stream's Durable Object.
 */
import type { QoeSummary, ViewerCounts } from '../../../shared/src/feed/feed-messages.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';

/** How often a live stream refreshes its summary in the registry (it also goes with every status change). */
export const METRICS_REPORT_INTERVAL_MS = 10_000;

/** One stream's metrics as of `at`. */
export interface StreamMetricsSummary {
  at: number;
  viewers: number;
  /** QoE beacons so far, and their rebuffering share of watch time (0–1). */
  beacons: number;
  rebufferRatio: number;
  rebufferCount: number;
  startupMsP50: number | null;
  /**
   * How far the newest media the edge can list lags real time: `at` minus the wall clock of the
   * last frame of the newest segment (its program date time plus duration); null before any.
   */
  liveEdgeAgeMs: number | null;
}

/** The summary of a stream from its audience and its newest segment's end (ms since epoch). Pure. */
export function streamMetricsSummary(audience: { viewers: ViewerCounts; qoe: QoeSummary }, newestSegmentEnd: number | null, now: number): StreamMetricsSummary {
  return {
    at: now,
    viewers: audience.viewers.current,
    beacons: audience.qoe.beacons,
    rebufferRatio: audience.qoe.rebufferRatio,
    rebufferCount: audience.qoe.rebufferCount,
    startupMsP50: audience.qoe.startupMsP50,
    liveEdgeAgeMs: newestSegmentEnd === null ? null : Math.max(0, now - newestSegmentEnd),
  };
}

/** Whether a stream owes the registry a fresh summary: live and the last one is older than the interval. Pure. */
export function metricsReportDue(status: string, lastSentAt: number | null, now: number): boolean {
  return status === 'live' && (lastSentAt === null || now - lastSentAt >= METRICS_REPORT_INTERVAL_MS);
}

/** What `GET /v1/metrics` needs from the registry, in one call. */
export interface RegistryMetrics {
  /** Streams by status (deleted ones left out). */
  statusCounts: Partial<Record<StreamStatus, number>>;
  /** The last summary of every live stream that sent one. */
  live: { id: string; summary: StreamMetricsSummary }[];
}
