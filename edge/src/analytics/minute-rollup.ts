/** One minute of analytics, for one stream or summed over the fleet, and how minutes fold into steps. */
import { MINUTE_MS, type AnalyticsRange, type FleetAnalyticsPoint } from '../../../shared/src/analytics/analytics-query.ts';
import { mergeStartups, startupMedian, type StartupHistogram } from './startup-histogram.ts';

/**
 * A closed minute. For one stream `liveStreams` is 1 when a heartbeat came in the minute and
 * `activeStreams` is 1; the fleet's minute sums every field over the streams that pushed it
 * (`ingestKbps` then is the total ingest bitrate).
 */
export interface MinuteRollup {
  /** Start of the minute, ms since epoch (a multiple of 60,000). */
  minute: number;
  /** Viewers at the minute's end (sessions seen within the viewer window). */
  currentViewers: number;
  /** Most viewers at any batch in the minute or at its end. */
  peakViewers: number;
  /** Distinct sessions that polled a playlist in the minute. */
  uniqueViewers: number;
  /** Mean ingest bitrate of the minute's heartbeats; null without one. */
  ingestKbps: number | null;
  /** Startup times reported in the minute. */
  startups: StartupHistogram;
  playedMs: number;
  rebufferMs: number;
  /** Player errors and CDN error beacons. */
  errors: number;
  liveStreams: number;
  activeStreams: number;
}

/** The minute a time falls in. Pure. */
export function minuteOf(now: number): number {
  return Math.floor(now / MINUTE_MS) * MINUTE_MS;
}

/** rebuffer / (played + rebuffer), four decimals; null without watch time. Pure. */
export function rebufferRatio(playedMs: number, rebufferMs: number): number | null {
  const watched = playedMs + rebufferMs;
  return watched === 0 ? null : Math.round((rebufferMs / watched) * 10_000) / 10_000;
}

/**
 * Folds minutes (any order) into one point per step of `range`, empty steps included: current
 * viewers are the last minute's (0 when that minute has no row: nothing was live or watched),
 * peaks and stream counts the largest minute's, uniques, errors and watch times sums, ingest the
 * mean over minutes that had one, startup p50 the median of the merged histograms. Pure.
 */
export function foldMinutes(minutes: readonly MinuteRollup[], range: AnalyticsRange): FleetAnalyticsPoint[] {
  const byMinute = new Map(minutes.map((m) => [m.minute, m]));
  const points: FleetAnalyticsPoint[] = [];
  for (let t = Math.floor(range.from / range.stepMs) * range.stepMs; t < range.to; t += range.stepMs) {
    // The step's minutes that start before `to` (a step cut by `to` ends at its last whole minute).
    const end = Math.min(t + range.stepMs, Math.ceil(range.to / MINUTE_MS) * MINUTE_MS);
    const startups: StartupHistogram = {};
    const p = { t, currentViewers: byMinute.get(end - MINUTE_MS)?.currentViewers ?? 0, peakViewers: 0, uniqueViewers: 0, ingestKbps: null as number | null, startupP50Ms: null as number | null, rebufferRatio: null as number | null, errors: 0, liveStreams: 0, activeStreams: 0 };
    let played = 0;
    let rebuffer = 0;
    let ingestSum = 0;
    let ingestMinutes = 0;
    for (let m = t; m < end; m += MINUTE_MS) {
      const r = byMinute.get(m);
      if (!r) continue;
      p.peakViewers = Math.max(p.peakViewers, r.peakViewers);
      p.uniqueViewers += r.uniqueViewers;
      p.errors += r.errors;
      p.liveStreams = Math.max(p.liveStreams, r.liveStreams);
      p.activeStreams = Math.max(p.activeStreams, r.activeStreams);
      played += r.playedMs;
      rebuffer += r.rebufferMs;
      mergeStartups(startups, r.startups);
      if (r.ingestKbps !== null) {
        ingestSum += r.ingestKbps;
        ingestMinutes++;
      }
    }
    p.ingestKbps = ingestMinutes === 0 ? null : Math.round((ingestSum / ingestMinutes) * 10) / 10;
    p.startupP50Ms = startupMedian(startups);
    p.rebufferRatio = rebufferRatio(played, rebuffer);
    points.push(p);
  }
  return points;
}
