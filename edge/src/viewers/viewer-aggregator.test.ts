import { describe, expect, it } from 'vitest';
import { ViewerAggregator } from './viewer-aggregator.ts';

const T = 1_000_000;

describe('ViewerAggregator', () => {
  it('flushes the first poll at once, then batches a second of polls into one flush', () => {
    const agg = new ViewerAggregator(1000);
    expect(agg.recordPoll('s1', 'sid-a', '720p', T)).toEqual({ sessions: [{ sid: 'sid-a', rendition: '720p', lastSeen: T }], qoe: expect.objectContaining({ beacons: 0 }) });
    expect(agg.recordPoll('s1', 'sid-b', '720p', T + 10)).toBeNull();
    expect(agg.recordPoll('s1', 'sid-b', '360p', T + 500)).toBeNull();
    expect(agg.recordPoll('s1', 'sid-c', '720p', T + 999)).toBeNull();
    const batch = agg.recordPoll('s1', 'sid-d', '720p', T + 1000);
    expect(batch?.sessions).toEqual([
      { sid: 'sid-b', rendition: '360p', lastSeen: T + 500 },
      { sid: 'sid-c', rendition: '720p', lastSeen: T + 999 },
      { sid: 'sid-d', rendition: '720p', lastSeen: T + 1000 },
    ]);
  });

  it('takes a burst of polls whole: the batch carries them, at most one batch a second still', () => {
    const agg = new ViewerAggregator(1000);
    agg.recordPoll('s1', 'sid-a', '720p', T);
    const burst = (at: number) => {
      agg.notePoll('s1', 'sid-b', '720p', at);
      agg.notePoll('s1', 'sid-c', '360p', at);
      return agg.takeDue('s1', at);
    };
    expect(burst(T + 400)).toBeNull(); // within the second of the last flush: held
    expect(burst(T + 1000)?.sessions).toEqual([
      { sid: 'sid-b', rendition: '720p', lastSeen: T + 1000 },
      { sid: 'sid-c', rendition: '360p', lastSeen: T + 1000 },
    ]);
  });

  it('keeps streams apart', () => {
    const agg = new ViewerAggregator(1000);
    agg.recordPoll('s1', 'sid-a', '720p', T);
    expect(agg.recordPoll('s2', 'sid-a', '720p', T + 1)?.sessions).toEqual([{ sid: 'sid-a', rendition: '720p', lastSeen: T + 1 }]);
  });

  it('sums beacons and counts switches by pair', () => {
    const agg = new ViewerAggregator(1000);
    agg.recordPoll('s1', 'sid-a', '720p', T);
    const base = { playedMs: 0, rebufferCount: 0, rebufferMs: 0, errors: 0, switches: [] };
    expect(agg.recordBeacon('s1', { ...base, sid: 'sid-a', startupMs: 800, playedMs: 9000, switches: [{ from: '360p', to: '720p' }] }, T + 1)).toBeNull();
    expect(agg.recordBeacon('s1', { ...base, sid: 'sid-b', startupMs: 1200, rebufferCount: 1, rebufferMs: 500, switches: [{ from: '360p', to: '720p' }, { from: '720p', to: '360p' }] }, T + 2)).toBeNull();
    expect(agg.drain().get('s1')).toEqual({
      sessions: [],
      qoe: { beacons: 2, startups: [{ sid: 'sid-a', ms: 800 }, { sid: 'sid-b', ms: 1200 }], playedMs: 9000, rebufferCount: 1, rebufferMs: 500, switches: { '360p>720p': 2, '720p>360p': 1 }, errors: 0 },
    });
    expect(agg.size).toBe(0);
  });

  it('takes one startup time per session: repeating it cannot move the median', () => {
    const agg = new ViewerAggregator(1000);
    const base = { playedMs: 0, rebufferCount: 0, rebufferMs: 0, errors: 0, switches: [] };
    const batches = [];
    for (let i = 0; i < 50; i++) batches.push(agg.recordBeacon('s1', { ...base, sid: 'sid-loud', startupMs: 60_000 }, T + i));
    batches.push(agg.recordBeacon('s1', { ...base, sid: 'sid-quiet', startupMs: 700 }, T + 60), agg.drain().get('s1') ?? null);
    const sent = batches.filter((b) => b !== null);
    expect(sent.reduce((n, b) => n + b.qoe.beacons, 0)).toBe(51);
    expect(sent.flatMap((b) => b.qoe.startups)).toEqual([{ sid: 'sid-loud', ms: 60_000 }, { sid: 'sid-quiet', ms: 700 }]);
  });

  it('counts player errors from beacons and CDN error beacons, and flushes a batch of errors alone', () => {
    const agg = new ViewerAggregator(1000);
    const base = { playedMs: 0, rebufferCount: 0, rebufferMs: 0, switches: [] };
    expect(agg.recordError('s1', T)).toEqual({ sessions: [], qoe: { beacons: 0, startups: [], playedMs: 0, rebufferCount: 0, rebufferMs: 0, switches: {}, errors: 1 } });
    expect(agg.recordBeacon('s1', { ...base, sid: 'sid-a', errors: 2 }, T + 1)).toBeNull();
    expect(agg.recordError('s1', T + 2)).toBeNull();
    expect(agg.drain().get('s1')?.qoe.errors).toBe(3);
    expect(agg.recordError('s2', T + 3)).not.toBeNull();
    expect(agg.recordError('s2', T + 4)).toBeNull();
    expect(agg.drain().get('s2')?.qoe).toEqual({ beacons: 0, startups: [], playedMs: 0, rebufferCount: 0, rebufferMs: 0, switches: {}, errors: 1 });
  });
});
