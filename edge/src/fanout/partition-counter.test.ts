import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FanoutPolicy } from '../stream-do/fanout-policy.ts';
import { PartitionCounter, partitionOf } from './partition-counter.ts';
import type { SessionSeen } from '../viewers/viewer-batch.ts';

/** Each session's poll, in order. */
const record = (counter: PartitionCounter, sessions: SessionSeen[]) => sessions.forEach((s) => counter.recordPoll(s.sid, s.rendition, s.lastSeen));

describe('PartitionCounter', () => {
  it('counts exactly what a scan of the latest polls counts, at any window, over random polls (late ones included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ sid: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), rendition: fc.constantFrom('720p', '360p'), at: fc.integer({ min: 0, max: 20_000 }) }), { maxLength: 60 }),
        fc.integer({ min: 0, max: 25_000 }),
        fc.integer({ min: 1, max: 12_000 }),
        (polls, now, windowMs) => {
          const counter = new PartitionCounter();
          const latest = new Map<string, { rendition: string; at: number }>();
          for (const p of polls) {
            record(counter, [{ sid: p.sid, rendition: p.rendition, lastSeen: p.at }]);
            const known = latest.get(p.sid);
            if (!known || p.at >= known.at) latest.set(p.sid, { rendition: p.rendition, at: p.at });
          }
          const expected: Record<string, number> = {};
          for (const s of latest.values()) if (s.at >= now - windowMs) expected[s.rendition] = (expected[s.rendition] ?? 0) + 1;
          const report = counter.report(now, windowMs, -1);
          expect(report.renditions).toEqual(expected);
          expect(report.newSessions).toBe(latest.size);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports handed-over sessions as counted but not new, and unique viewers per minute once each, the minute that just ended too', () => {
    const counter = new PartitionCounter();
    counter.handOver([{ sid: 'a', rendition: '720p', lastSeen: 59_000 }]);
    record(counter, [{ sid: 'b', rendition: '720p', lastSeen: 59_500 }, { sid: 'a', rendition: '720p', lastSeen: 59_600 }, { sid: 'b', rendition: '720p', lastSeen: 59_700 }]);
    record(counter, [{ sid: 'c', rendition: '360p', lastSeen: 60_100 }]);
    expect(counter.report(60_200, 6000, 0)).toEqual({
      renditions: { '720p': 2, '360p': 1 },
      newSessions: 2,
      minutes: [
        { minute: 0, newUnique: 2 },
        { minute: 60_000, newUnique: 1 },
      ],
    });
    expect(counter.report(61_000, 6000, 0)).toEqual({ renditions: { '720p': 2, '360p': 1 }, newSessions: 0, minutes: [] });
  });

  it('forgets sessions older than the horizon and gives live ones back', () => {
    const counter = new PartitionCounter();
    record(counter, [{ sid: 'old', rendition: '720p', lastSeen: 1_000 }, { sid: 'live', rendition: '720p', lastSeen: 30_000 }]);
    counter.report(31_000, 6000, 10_000);
    expect(counter.size).toBe(1);
    expect(counter.liveSessions(25_000)).toEqual([{ sid: 'live', rendition: '720p', lastSeen: 30_000 }]);
  });

  it('counts a poll that falls in a second it already forgot (that second starts a new bucket)', () => {
    const counter = new PartitionCounter();
    counter.recordPoll('a', '720p', 1_000);
    counter.report(1_500, 6000, 2_000); // forgets second 1, the last one a poll fell in
    expect(counter.size).toBe(0);
    counter.recordPoll('b', '720p', 1_200); // a late poll, in second 1 again
    counter.recordPoll('a', '360p', 1_900);
    expect(counter.report(2_000, 6000, 0).renditions).toEqual({ '720p': 1, '360p': 1 });
  });

  it('spreads session ids over the relays evenly enough', () => {
    const counts = Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(`session-${i}`, 8)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
  });
});

describe('FanoutPolicy', () => {
  it('engages at the threshold and disengages only after the count stayed under a quarter of it long enough', () => {
    const policy = new FanoutPolicy({ engageIsolates: 8, disengageMs: 5000 });
    for (let i = 0; i < 7; i++) expect(policy.observe(`i${i}`, 1, 0)).toBe(false);
    expect(policy.observe('i7', 1, 0)).toBe(true);
    expect(policy.engaged).toBe(true);
    // Sources age out after 10 s; one relay reports 3 isolates: above a quarter (2), stays engaged.
    expect(policy.observe('relay', 3, 11_000)).toBe(false);
    expect(policy.observe('relay', 1, 12_000)).toBe(false);
    expect(policy.observe('relay', 1, 16_000)).toBe(false);
    expect(policy.observe('relay', 1, 17_000)).toBe(true);
    expect(policy.engaged).toBe(false);
  });
});
