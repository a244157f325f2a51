import { describe, expect, it } from 'vitest';
import { forEachSession, packBatch, packSessions, unpackBatch, unpackSessions } from './packed-batch.ts';
import { emptyQoe, type SessionSeen } from './viewer-batch.ts';

const sessions: SessionSeen[] = [
  { sid: 'sess-a', rendition: '720p', lastSeen: 1_764_000_000_123 },
  { sid: 'sess-b', rendition: '360p', lastSeen: 1_764_000_000_456.5 },
  { sid: 'sess-c', rendition: '720p', lastSeen: 1_764_000_001_000 },
];

describe('packed viewer batch', () => {
  it('packs sessions in columns, each rendition once, and unpacks them as they were', () => {
    const packed = packSessions(sessions);
    expect(packed.sids).toEqual(['sess-a', 'sess-b', 'sess-c']);
    expect(packed.renditions).toEqual(['720p', '360p']);
    expect([...packed.rendition]).toEqual([0, 1, 0]);
    expect(unpackSessions(packed)).toEqual(sessions);
    expect(unpackSessions(packSessions([]))).toEqual([]);
  });

  it('survives a structured clone (what an RPC argument goes through) and keeps the QoE sums', () => {
    const batch = { sessions, qoe: { ...emptyQoe(), beacons: 2, startups: [{ sid: 'sess-a', ms: 800 }], switches: { '720p>360p': 1 } } };
    expect(unpackBatch(structuredClone(packBatch(batch)))).toEqual(batch);
  });

  it('refuses columns of different lengths and a rendition index with no rendition', () => {
    const packed = packSessions(sessions);
    expect(() => unpackSessions({ ...packed, lastSeen: packed.lastSeen.subarray(1) })).toThrow('3 ids, 3 renditions, 2 times');
    expect(() => unpackSessions({ ...packed, renditions: ['720p'] })).toThrow('rendition index 1 of 1');
  });

  it('walks the columns without objects, and refuses a bad batch before the first session', () => {
    const walked: string[] = [];
    forEachSession(packSessions(sessions), (sid, rendition, lastSeen, i) => walked.push(`${i} ${sid} ${rendition} ${lastSeen}`));
    expect(walked).toEqual(sessions.map((s, i) => `${i} ${s.sid} ${s.rendition} ${s.lastSeen}`));
    const bad = { ...packSessions(sessions), renditions: ['720p'] };
    walked.length = 0;
    expect(() => forEachSession(bad, (sid) => walked.push(sid))).toThrow('rendition index 1 of 1');
    expect(walked).toEqual([]);
  });
});
