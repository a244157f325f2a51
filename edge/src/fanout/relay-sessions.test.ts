import { describe, expect, it } from 'vitest';
import { packSessions, unpackSessions } from '../viewers/packed-batch.ts';
import type { SessionSeen } from '../viewers/viewer-batch.ts';
import { PartitionCounter, partitionOf } from './partition-counter.ts';
import { RelaySessions } from './relay-sessions.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NOW = 1_764_000_000_000;

describe('RelaySessions', () => {
  it('counts its own partition of a batch and passes every other relay exactly its partition; an exchange batch is counted whole', async () => {
    const sessions: SessionSeen[] = Array.from({ length: 200 }, (_, i) => ({ sid: `session-${i}`, rendition: i % 2 ? '720p' : '360p', lastSeen: NOW + i }));
    const counter = new PartitionCounter();
    const sent = new Map<number, SessionSeen[]>();
    const relay = new RelaySessions(counter, 2, 4, async (to, packed) => void sent.set(to, unpackSessions(structuredClone(packed))), 10);
    relay.take(packSessions(sessions), false);
    const own = sessions.filter((s) => partitionOf(s.sid, 4) === 2);
    expect(counter.size).toBe(own.length);
    await sleep(40);
    expect([...sent.keys()].sort()).toEqual([0, 1, 3]);
    for (const [to, list] of sent) expect(list).toEqual(sessions.filter((s) => partitionOf(s.sid, 4) === to));
    expect(relay.exchanged).toBe(3);
    // Another relay's exchange batch: all of it is this relay's (the sender partitioned it).
    relay.take(packSessions(sent.get(0)!), true);
    expect(counter.size).toBe(own.length + sent.get(0)!.length);
    expect(counter.report(NOW + 1000, 6000, 0).newSessions).toBe(own.length + sent.get(0)!.length);
  });
});
