import { describe, expect, it } from 'vitest';
import { METRICS_REPORT_INTERVAL_MS, metricsReportDue, streamMetricsSummary } from './stream-metrics-summary.ts';

const AUDIENCE = { viewers: { current: 12, peak: 20, total: 40, renditions: { '720p': 12 } }, qoe: { beacons: 9, startupMsP50: 750, rebufferCount: 2, rebufferRatio: 0.015, switches: 3 } };

describe('streamMetricsSummary', () => {
  it('takes viewers and QoE from the audience and the live-edge age from the newest segment end', () => {
    expect(streamMetricsSummary(AUDIENCE, 98_500, 100_000)).toEqual({ at: 100_000, viewers: 12, beacons: 9, rebufferRatio: 0.015, rebufferCount: 2, startupMsP50: 750, liveEdgeAgeMs: 1500 });
  });

  it('has no live-edge age before the first segment, and never a negative one', () => {
    expect(streamMetricsSummary(AUDIENCE, null, 100_000).liveEdgeAgeMs).toBeNull();
    expect(streamMetricsSummary(AUDIENCE, 100_400, 100_000).liveEdgeAgeMs).toBe(0);
  });
});

describe('metricsReportDue', () => {
  it('is due for a live stream that never reported or reported an interval ago', () => {
    expect(metricsReportDue('live', null, 50_000)).toBe(true);
    expect(metricsReportDue('live', 50_000, 50_000 + METRICS_REPORT_INTERVAL_MS - 1)).toBe(false);
    expect(metricsReportDue('live', 50_000, 50_000 + METRICS_REPORT_INTERVAL_MS)).toBe(true);
  });

  it('is never due for a stream that is not live', () => {
    for (const status of ['idle', 'error', 'ended']) expect(metricsReportDue(status, null, 50_000)).toBe(false);
  });
});
