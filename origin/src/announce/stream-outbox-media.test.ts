import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { PublishGrant } from '../../../shared/src/schemas.ts';
import { MemorySegmentStore } from '../store/memory-segment-store.ts';
import type { EdgeClient } from './edge-client.ts';
import { StreamOutbox } from './stream-outbox.ts';

const silent = pino({ level: 'silent' });
const grant: PublishGrant = { streamId: 'str1', epoch: 3, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 500 }], audioKbps: 64 }, segmentSeconds: 2, firstMsn: 0, partSeconds: null };
const PLAN = { renditions: [{ name: '240p', height: 240, videoKbps: 500, passthrough: true }], audioKbps: 64 };
const SOURCE = { videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 240, fps: 15, videoKbps: 300 };
const INIT_INFO = { tracks: [{ trackId: 1, kind: 'video' as const, timescale: 15360, codec: 'avc1.64000d', width: 320, height: 240, defaultSampleDuration: 0, defaultSampleFlags: 0 }] };
const tick = (ms = 60) => new Promise((r) => setTimeout(r, ms));

function outbox(edge: Partial<EdgeClient>, store = new MemorySegmentStore()) {
  const full: EdgeClient = { checkKey: async () => ({ streamId: 'str1' }), publish: async () => grant, announceRendition: async () => {}, announceSegments: async () => {}, heartbeat: async () => {}, end: async () => {}, ...edge } as EdgeClient;
  const box = new StreamOutbox({
    streamId: 'str1',
    store,
    edge: full,
    metrics: { segmentStored: () => {}, segmentAnnounced: () => {}, uploadBacklog: () => {}, segmentsDropped: () => {} },
    settings: { maxQueuedBytes: 1_000_000, retryBaseMs: 5, retryMaxMs: 20 },
    logger: silent,
    onRefused: () => {},
  });
  box.begin(grant, PLAN, SOURCE, silent);
  return { box, store };
}

describe('StreamOutbox thumbnails and unlisted objects', () => {
  it('stores the latest thumbnail, and the first of each epoch as its poster', async () => {
    const { box, store } = outbox({});
    box.thumbnail(3, new Uint8Array([0xff, 0xd8, 1, 0xff, 0xd9]));
    box.thumbnail(3, new Uint8Array([0xff, 0xd8, 2, 0xff, 0xd9]));
    await tick();
    const latest = await store.get('live/str1/_thumbs/latest.jpg');
    expect(latest?.contentType).toBe('image/jpeg');
    expect([...new Uint8Array(await new Response(latest!.body).arrayBuffer())]).toEqual([0xff, 0xd8, 2, 0xff, 0xd9]);
    const poster = await store.get('live/str1/_thumbs/poster-e3.jpg');
    expect([...new Uint8Array(await new Response(poster!.body).arrayBuffer())]).toEqual([0xff, 0xd8, 1, 0xff, 0xd9]);
    expect(poster?.cacheControl).toBe('public, max-age=31536000, immutable');
  });

  it('deletes objects it stored but the edge refused to list (the stream ended), so none stay in storage unlisted', async () => {
    const { box, store } = outbox({
      announceRendition: async () => {
        throw new EdgeliveError('invalid_transition', 'stream is ended');
      },
    });
    box.init(3, '240p', new Uint8Array([1]), INIT_INFO);
    box.segment(3, '240p', { msn: 0, duration: 2, startSeconds: 0, programDateTime: 1_000_000, timelineOrigin: 1_000_000, bytes: new Uint8Array(10) });
    await box.whenIdle();
    await tick();
    expect(box.cancelled).toBe('edge refused: invalid_transition');
    expect(await store.get('live/str1/240p/init-3.mp4')).toBeNull();
    expect(await store.get('live/str1/240p/seg-0-e3.m4s')).toBeNull();
  });
});
