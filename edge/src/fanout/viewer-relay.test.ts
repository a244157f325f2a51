import { describe, expect, it } from 'vitest';
import { packSessions, unpackSessions, type PackedViewerBatch } from '../viewers/packed-batch.ts';
import { emptyQoe, type SessionSeen } from '../viewers/viewer-batch.ts';
import { ViewerRelay } from './viewer-relay.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seen = (sid: string, lastSeen: number, rendition = '720p'): SessionSeen => ({ sid, rendition, lastSeen });
const batch = (sessions: SessionSeen[], beacons = 0): PackedViewerBatch => ({ sessions: packSessions(sessions), qoe: { ...emptyQoe(), beacons } });

/** A relay whose sends are kept, unpacked, with the isolates they reported. */
function relay(refreshMs: number) {
  const sent: { sessions: SessionSeen[]; beacons: number; isolates: number }[] = [];
  const viewers = new ViewerRelay(async (b, isolates) => void sent.push({ sessions: unpackSessions(structuredClone(b.sessions)), beacons: b.qoe.beacons, isolates }), { intervalMs: 30, refreshMs });
  return { viewers, sent };
}

describe('ViewerRelay', () => {
  it('passes on each session once per interval with its latest poll, beacon sums added, isolates summed over sources', async () => {
    const { viewers, sent } = relay(0);
    const now = Date.now();
    viewers.add('i1', 1, batch([seen('a', 1000), seen('b', 1000)], 2), now);
    viewers.add('e:FRA', 5, batch([seen('a', 2000, '360p'), seen('a', 1500), seen('c', 1000)], 3), now); // a's 1500 came late: changes nothing
    expect(sent).toEqual([]);
    await sleep(80);
    expect(sent).toEqual([{ sessions: [seen('a', 2000, '360p'), seen('b', 1000), seen('c', 1000)], beacons: 5, isolates: 6 }]);
    expect(viewers.sent).toBe(1);
  });

  it('thins: a session passed on within refreshMs on the same rendition waits, a rendition change or an older pass goes', async () => {
    const { viewers, sent } = relay(1000);
    // Polls at real times: sessions not polled for 10 × refreshMs (by the clock) are forgotten.
    const t = Date.now();
    viewers.add('i1', 1, batch([seen('a', t), seen('b', t)]), t);
    await sleep(60);
    viewers.add('i1', 1, batch([seen('a', t + 400), seen('b', t + 400, '360p')]), t); // a within 1 s: thinned; b changed rendition
    await sleep(60);
    viewers.add('i1', 1, batch([seen('a', t + 1000), seen('b', t + 1000, '360p')]), t); // a 1 s after its pass; b 600 ms after its: thinned
    await sleep(60);
    expect(sent.map((s) => s.sessions)).toEqual([[seen('a', t), seen('b', t)], [seen('b', t + 400, '360p')], [seen('a', t + 1000)]]);
  });

  it('forgets a session not polled for 10 × refreshMs: its next poll goes on whatever it was passed on as', async () => {
    const { viewers, sent } = relay(5);
    const t = Date.now();
    viewers.add('i1', 1, batch([seen('a', t - 100)]), t); // already older than the 50 ms horizon when flushed
    await sleep(60);
    viewers.add('i1', 1, batch([seen('a', t - 100)]), t); // the same poll again: known, it would be thinned
    await sleep(60);
    expect(sent.map((s) => s.sessions)).toEqual([[seen('a', t - 100)], [seen('a', t - 100)]]);
  });

  it('sends a batch of beacon sums alone (a relay, whose sessions went to its counter)', async () => {
    const { viewers, sent } = relay(0);
    viewers.add('e:FRA', 3, batch([], 4), Date.now());
    await sleep(60);
    expect(sent).toEqual([{ sessions: [], beacons: 4, isolates: 3 }]);
  });
});
