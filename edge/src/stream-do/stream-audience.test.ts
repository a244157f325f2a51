import { describe, expect, it } from 'vitest';
import type { ViewerCounts } from '../../../shared/src/feed/feed-messages.ts';
import { fakeWriter, streamRow } from '../test-support/fake-stream.ts';
import { emptyQoe, type ViewerBatch } from '../viewers/viewer-batch.ts';
import { crossedMilestones, sessionForgetBefore, StreamAudience, viewerWindowMs, type AudienceTables } from './stream-audience.ts';

const NOW = 10_000_000;

describe('audience arithmetic (pure)', () => {
  it('counts viewers within 3 target durations', () => {
    expect(viewerWindowMs(2)).toBe(6000);
    expect(viewerWindowMs(6)).toBe(18_000);
  });

  it('names every milestone a peak crosses, and none it had already reached', () => {
    expect(crossedMilestones(0, 1)).toEqual([1]);
    expect(crossedMilestones(0, 150)).toEqual([1, 10, 100]);
    expect(crossedMilestones(10, 99)).toEqual([]);
    expect(crossedMilestones(999, 1_000_000)).toEqual([1_000, 10_000, 100_000, 1_000_000]);
    expect(crossedMilestones(5, 3)).toEqual([]);
  });

  it('forgets sessions after 10 minutes, or two viewer windows when those are longer', () => {
    expect(sessionForgetBefore(NOW, 2)).toBe(NOW - 600_000);
    expect(sessionForgetBefore(NOW, 120)).toBe(NOW - 720_000);
  });
});

/** Audience tables whose current viewer count and stored peak are set by the test. */
function tables(current: number, peak: number) {
  const calls: string[] = [];
  const counts: ViewerCounts = { current, peak: Math.max(peak, current), total: current, renditions: {} };
  const t: AudienceTables = {
    recordSessions: () => (calls.push('sessions'), 0),
    addQoe: () => void calls.push('qoe'),
    counts: (_now, windowMs) => (calls.push(`counts ${windowMs}`), counts),
    raisePeak: () => (calls.push('peak'), peak),
    pruneSessions: (before) => (calls.push(`prune ${before}`), 0),
    qoe: () => ({ beacons: 0, startupMsP50: null, rebufferCount: 0, rebufferRatio: 0, switches: 0 }),
    countsOf: (renditions) => (calls.push(`countsOf ${JSON.stringify(renditions)}`), { ...counts, current: Object.values(renditions).reduce((a, b) => a + b, 0) }),
  };
  return { t, calls };
}

const batch = (switches: Record<string, number> = {}): ViewerBatch => ({ sessions: [{ sid: 'a'.repeat(8), rendition: '720p', lastSeen: NOW }], qoe: { ...emptyQoe(), switches } });

describe('StreamAudience.record', () => {
  it('stores the batch, logs crossed milestones and switches, and forgets old sessions at most once a minute', () => {
    const { t, calls } = tables(12, 3);
    const audience = new StreamAudience(t);
    const { writer, log } = fakeWriter();
    const row = streamRow({ target_duration: 2, ladder: '{"rungs":[{"name":"720p","height":720,"videoKbps":2800},{"name":"360p","height":360,"videoKbps":800}],"audioKbps":128}' });
    // A switch naming a rendition the stream does not have is a client's invention: dropped.
    expect(writer.write((tx) => audience.record(tx, row, NOW, batch({ '360p>720p': 2, '720p>360p': 1, '720p>8k': 5, 'x>y': 1 })))).toEqual({ ok: true, value: { current: 12 } });
    expect(calls).toEqual(['sessions', 'qoe', 'counts 6000', 'peak', `prune ${NOW - 600_000}`]);
    expect(log.map((e) => [e.type, e.data])).toEqual([
      ['viewer_milestone', { viewers: 10, peak: 12 }],
      ['quality_switch', { count: 3, switches: { '360p>720p': 2, '720p>360p': 1 } }],
    ]);
    calls.length = 0;
    writer.write((tx) => audience.record(tx, row, NOW + 60_000, batch()));
    expect(calls).not.toContain(`prune ${NOW + 60_000 - 600_000}`);
    writer.write((tx) => audience.record(tx, row, NOW + 60_001, batch()));
    expect(calls.at(-1)).toBe(`prune ${NOW + 60_001 - 600_000}`);
  });

  it('summarises viewers in the stream viewer window and QoE', () => {
    const { t, calls } = tables(4, 9);
    expect(new StreamAudience(t).summary(streamRow({ target_duration: 4 }), NOW)).toEqual({
      viewers: { current: 4, peak: 9, total: 4, renditions: {} },
      qoe: { beacons: 0, startupMsP50: null, rebufferCount: 0, rebufferRatio: 0, switches: 0 },
    });
    expect(calls).toEqual(['counts 12000']);
  });
});
