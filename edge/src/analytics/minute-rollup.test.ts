import { describe, expect, it } from 'vitest';
import { foldMinutes, rebufferRatio, type MinuteRollup } from './minute-rollup.ts';
import { addStartup, bucketValue, mergeStartups, startupBucket, startupMedian, type StartupHistogram } from './startup-histogram.ts';

const H = 3_600_000;
const M = 60_000;
/** 2026-11-30T00:00:00Z */
const DAY = Date.UTC(2026, 10, 30);

function minute(at: number, over: Partial<MinuteRollup> = {}): MinuteRollup {
  return { minute: at, currentViewers: 0, peakViewers: 0, uniqueViewers: 0, ingestKbps: null, startups: {}, playedMs: 0, rebufferMs: 0, errors: 0, liveStreams: 1, activeStreams: 1, ...over };
}

function histogram(...ms: number[]): StartupHistogram {
  return ms.reduce((h, v) => addStartup(h, v), {} as StartupHistogram);
}

describe('startup histogram', () => {
  it('puts times in buckets of ratio 2^(1/8) and reads a bucket back as its geometric middle', () => {
    expect([0, 1, 2, 1000, 1023, 1024, 600_000].map(startupBucket)).toEqual([0, 1, 9, 80, 80, 81, 154]);
    expect([0, 1, 80, 81].map(bucketValue)).toEqual([0, 1, 981, 1069]);
  });

  it('reads the lower median across merged histograms, null when empty', () => {
    expect(startupMedian({})).toBeNull();
    expect(startupMedian(histogram(1000))).toBe(981);
    // Lower median of [500, 1000, 1024, 4000] is 1000 (bucket 80).
    expect(startupMedian(mergeStartups(histogram(4000, 1024), histogram(500, 1000)))).toBe(981);
    expect(startupMedian(histogram(500, 4000, 4000))).toBe(3922);
  });
});

describe('rebufferRatio', () => {
  it('is rebuffering over watch time, four decimals, null without watch time', () => {
    expect(rebufferRatio(0, 0)).toBeNull();
    expect(rebufferRatio(9000, 1000)).toBe(0.1);
    expect(rebufferRatio(2000, 1)).toBe(0.0005);
  });
});

describe('foldMinutes', () => {
  it('at 1m gives one point per minute, empty minutes as zeros and nulls', () => {
    const rows = [minute(DAY, { currentViewers: 3, peakViewers: 5, uniqueViewers: 6, ingestKbps: 2500, startups: histogram(1000), playedMs: 9000, rebufferMs: 1000, errors: 2 })];
    expect(foldMinutes(rows, { from: DAY, to: DAY + 2 * M, step: '1m', stepMs: M })).toEqual([
      { t: DAY, currentViewers: 3, peakViewers: 5, uniqueViewers: 6, ingestKbps: 2500, startupP50Ms: 981, rebufferRatio: 0.1, errors: 2, liveStreams: 1, activeStreams: 1 },
      { t: DAY + M, currentViewers: 0, peakViewers: 0, uniqueViewers: 0, ingestKbps: null, startupP50Ms: null, rebufferRatio: null, errors: 0, liveStreams: 0, activeStreams: 0 },
    ]);
  });

  it('at 5m: current is the last minute, peak the largest, uniques and errors summed, ingest averaged over minutes with ingest, p50 from the merged samples', () => {
    const rows = [
      minute(DAY, { currentViewers: 4, peakViewers: 4, uniqueViewers: 4, ingestKbps: 3000, startups: histogram(500, 600, 700, 800), playedMs: 1000 }),
      minute(DAY + M, { currentViewers: 9, peakViewers: 12, uniqueViewers: 10, ingestKbps: 2000, startups: histogram(5000), playedMs: 3000, rebufferMs: 1000, errors: 1 }),
      // Minute 2 has no row: nothing live, nothing watched.
      minute(DAY + 3 * M, { currentViewers: 2, peakViewers: 3, uniqueViewers: 3, liveStreams: 0, errors: 4 }),
      minute(DAY + 4 * M, { currentViewers: 1, peakViewers: 2, uniqueViewers: 2, liveStreams: 0 }),
      minute(DAY + 5 * M, { currentViewers: 7, peakViewers: 7, uniqueViewers: 7 }),
    ];
    const [first, second] = foldMinutes(rows, { from: DAY + 2 * M, to: DAY + 10 * M, step: '5m', stepMs: 5 * M });
    // Samples 500, 600, 700, 800, 5000: the median is 700 (bucket 76, 2^(75.5/8) = 693.4).
    expect(first).toEqual({ t: DAY, currentViewers: 1, peakViewers: 12, uniqueViewers: 19, ingestKbps: 2500, startupP50Ms: 693, rebufferRatio: 0.2, errors: 5, liveStreams: 1, activeStreams: 1 });
    // The second step's last minute (DAY + 9m) has no row: nobody at its end.
    expect(second).toEqual({ t: DAY + 5 * M, currentViewers: 0, peakViewers: 7, uniqueViewers: 7, ingestKbps: null, startupP50Ms: null, rebufferRatio: null, errors: 0, liveStreams: 1, activeStreams: 1 });
  });

  it('cuts the last step at `to`: its current viewers are those of the last whole minute before `to`', () => {
    const rows = [minute(DAY, { currentViewers: 5, peakViewers: 5 }), minute(DAY + 2 * M, { currentViewers: 8, peakViewers: 9 })];
    const points = foldMinutes(rows, { from: DAY, to: DAY + 3 * M, step: '1h', stepMs: H });
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ t: DAY, currentViewers: 8, peakViewers: 9 });
  });

  it('aligns daily steps to UTC midnight', () => {
    const points = foldMinutes([minute(DAY + 90 * M, { peakViewers: 1 })], { from: DAY + 60 * M, to: DAY + 26 * H, step: '1d', stepMs: 24 * H });
    expect(points.map((p) => [p.t, p.peakViewers])).toEqual([[DAY, 1], [DAY + 24 * H, 0]]);
  });
});
