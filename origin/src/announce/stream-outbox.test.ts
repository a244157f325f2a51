import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { PartAnnounce, PublishGrant, SegmentAnnounce } from '../../../shared/src/schemas.ts';
import type { PackagedSegment } from '../package/rendition-segmenter.ts';
import { MemorySegmentStore } from '../store/memory-segment-store.ts';
import { RecentParts } from '../store/recent-parts.ts';
import { SegmentStoreError } from '../store/segment-store-error.ts';
import type { EdgeClient } from './edge-client.ts';
import { StreamOutbox, type OutboxRefusal } from './stream-outbox.ts';

const LADDER = { rungs: [{ name: '240p', height: 240, videoKbps: 500 }], audioKbps: 64 };
const grant = (epoch: number, firstMsn: number): PublishGrant => ({ streamId: 'str1', epoch, ladder: LADDER, segmentSeconds: 2, firstMsn, partSeconds: null });
const SOURCE = { videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 240, fps: 15, videoKbps: 300 };
const PLAN = { renditions: [{ name: '240p', height: 240, videoKbps: 500, passthrough: true }], audioKbps: 64 };
const INIT_INFO = { tracks: [{ trackId: 1, kind: 'video' as const, timescale: 15360, codec: 'avc1.64000d', width: 320, height: 240, defaultSampleDuration: 0, defaultSampleFlags: 0 }] };
const silent = pino({ level: 'silent' });

function segment(msn: number, size = 10): PackagedSegment {
  return { msn, duration: 2, startSeconds: 2 * msn, programDateTime: 1_000_000 + 2000 * msn, timelineOrigin: 1_000_000, bytes: new Uint8Array(size).fill(msn) };
}

/** An edge that records announces as short lines; `down` makes every call fail like an unreachable edge. */
function recordingEdge() {
  const calls: string[] = [];
  const state = { down: false, refuse: undefined as EdgeliveError | undefined };
  const check = () => {
    if (state.refuse) throw state.refuse;
    if (state.down) throw new EdgeliveError('upstream_failed', 'edge unreachable');
  };
  const edge: EdgeClient = {
    checkKey: async () => ({ streamId: 's' }),
    publish: async () => grant(1, 0),
    announceRendition: async (id, b) => {
      check();
      calls.push(`rendition ${b.epoch} ${b.rendition.name} ${b.rendition.initFile}`);
    },
    announceSegments: async (_id, b: SegmentAnnounce) => {
      check();
      calls.push(`segments ${b.epoch} ${b.segments.map((s) => `${s.file}${s.gap ? ':gap' : ''}`).join(' ')}`);
    },
    heartbeat: async () => check(),
    end: async () => check(),
  };
  return { edge, calls, state };
}

/** A store that fails like an unreachable S3 while `down`. */
class FlakyStore extends MemorySegmentStore {
  down = false;
  override async put(key: string, body: Uint8Array, opts: { contentType: string; cacheControl: string }): Promise<void> {
    if (this.down) throw new SegmentStoreError('store_unavailable', `put ${key}: connect ECONNREFUSED`);
    return super.put(key, body, opts);
  }
}

function outbox(edge: EdgeClient, store = new FlakyStore(), maxQueuedBytes = 1_000_000) {
  const refusals: OutboxRefusal[] = [];
  const dropped: string[] = [];
  const box = new StreamOutbox({
    streamId: 'str1',
    store,
    edge,
    metrics: { segmentStored: () => {}, segmentAnnounced: () => {}, uploadBacklog: () => {}, segmentsDropped: (n, reason) => void dropped.push(`${n} ${reason}`) },
    settings: { maxQueuedBytes, retryBaseMs: 5, retryMaxMs: 20 },
    logger: silent,
    onRefused: (r) => void refusals.push(r),
  });
  return { box, store, refusals, dropped };
}

/** The announced segment files in order, whatever batches they came in (uploads finish in any order). */
const files = (calls: string[]) => calls.filter((c) => c.startsWith('segments ')).flatMap((c) => c.split(' ').slice(2));

const tick = (ms = 60) => new Promise((r) => setTimeout(r, ms));

describe('StreamOutbox', () => {
  it('stores each piece under its epoch, then announces in order, batching what is ready', async () => {
    const { edge, calls } = recordingEdge();
    const { box, store } = outbox(edge);
    box.begin(grant(3, 7), PLAN, SOURCE, silent);
    box.init(3, '240p', new Uint8Array([1, 2]), INIT_INFO);
    box.segment(3, '240p', segment(7));
    box.segment(3, '240p', segment(8));
    await box.whenIdle();
    expect(store.keys()).toEqual(['live/str1/240p/init-3.mp4', 'live/str1/240p/seg-7-e3.m4s', 'live/str1/240p/seg-8-e3.m4s']);
    expect(calls).toEqual(['rendition 3 240p init-3.mp4', 'segments 3 seg-7-e3.m4s seg-8-e3.m4s']);
    expect(box.nextMsn).toBe(9);
  });

  it('waits out a storage outage: segments are uploaded and listed afterwards with their numbers', async () => {
    const { edge, calls } = recordingEdge();
    const { box, store } = outbox(edge);
    box.begin(grant(1, 0), PLAN, SOURCE, silent);
    box.init(1, '240p', new Uint8Array([1]), INIT_INFO);
    await box.whenIdle();
    store.down = true;
    for (const msn of [0, 1, 2]) box.segment(1, '240p', segment(msn));
    await tick(100);
    expect(calls).toEqual(['rendition 1 240p init-1.mp4']);
    expect(box.queuedBytes).toBe(30);
    store.down = false;
    await box.whenIdle();
    expect(files(calls)).toEqual(['seg-0-e1.m4s', 'seg-1-e1.m4s', 'seg-2-e1.m4s']);
    expect(calls.every((c) => c.startsWith('rendition 1 ') || c.startsWith('segments 1 '))).toBe(true);
    expect(box.queuedBytes).toBe(0);
  });

  it('over its cap gives up the oldest unstored segments and lists them as gaps, never renumbering', async () => {
    const { edge, calls } = recordingEdge();
    const { box, store, dropped } = outbox(edge, new FlakyStore(), 25);
    box.begin(grant(1, 0), PLAN, SOURCE, silent);
    box.init(1, '240p', new Uint8Array([1]), INIT_INFO);
    await box.whenIdle();
    store.down = true;
    for (const msn of [0, 1, 2, 3]) box.segment(1, '240p', segment(msn));
    expect(dropped).toEqual(['1 queue_full', '1 queue_full']);
    store.down = false;
    await box.whenIdle();
    expect(files(calls)).toEqual(['seg-0-e1.m4s:gap', 'seg-1-e1.m4s:gap', 'seg-2-e1.m4s', 'seg-3-e1.m4s']);
    expect(store.keys()).toEqual(['live/str1/240p/init-1.mp4', 'live/str1/240p/seg-2-e1.m4s', 'live/str1/240p/seg-3-e1.m4s']);
  });

  it('waits out an edge outage and then announces everything held, in one batch', async () => {
    const { edge, calls, state } = recordingEdge();
    const { box } = outbox(edge);
    box.begin(grant(2, 5), PLAN, SOURCE, silent);
    state.down = true;
    box.init(2, '240p', new Uint8Array([1]), INIT_INFO);
    for (const msn of [5, 6, 7]) box.segment(2, '240p', segment(msn));
    await tick(150);
    expect(calls).toEqual([]);
    state.down = false;
    await box.whenIdle();
    expect(calls).toEqual(['rendition 2 240p init-2.mp4', 'segments 2 seg-5-e2.m4s seg-6-e2.m4s seg-7-e2.m4s']);
  });

  it('announces segments queued under an older epoch under the newest grant, numbered as they were made', async () => {
    const { edge, calls, state } = recordingEdge();
    const { box } = outbox(edge);
    box.begin(grant(1, 0), PLAN, SOURCE, silent);
    state.down = true;
    box.init(1, '240p', new Uint8Array([1]), INIT_INFO);
    box.segment(1, '240p', segment(0));
    box.segment(1, '240p', segment(1));
    expect(box.nextMsn).toBe(2);
    // The publisher reconnected: a new grant numbered after everything queued.
    box.begin(grant(2, 2), PLAN, SOURCE, silent);
    box.init(2, '240p', new Uint8Array([2]), INIT_INFO);
    box.segment(2, '240p', segment(2));
    // A late segment of the old ffmpeg numbered into the new epoch's range is never listed.
    box.segment(1, '240p', segment(2));
    state.down = false;
    await box.whenIdle();
    expect(calls).toEqual(['rendition 2 240p init-1.mp4', 'segments 2 seg-0-e1.m4s seg-1-e1.m4s', 'rendition 2 240p init-2.mp4', 'segments 2 seg-2-e2.m4s']);
  });

  it('stops and drops its queue when the edge refuses the epoch (fenced)', async () => {
    const { edge, calls, state } = recordingEdge();
    const { box, refusals } = outbox(edge);
    box.begin(grant(4, 0), PLAN, SOURCE, silent);
    state.refuse = new EdgeliveError('stale_epoch', 'epoch 4 is not the current epoch 5');
    box.init(4, '240p', new Uint8Array([1]), INIT_INFO);
    box.segment(4, '240p', segment(0));
    await box.whenIdle();
    expect(refusals).toEqual([{ code: 'stale_epoch', message: 'epoch 4 is not the current epoch 5', epoch: 4 }]);
    expect(box.cancelled).toBe('edge refused: stale_epoch');
    expect(calls).toEqual([]);
    box.segment(4, '240p', segment(1));
    expect(box.idle).toBe(true);
  });

  it('treats a refused signature as an outage to wait out, not a refusal', async () => {
    const { edge, calls, state } = recordingEdge();
    const { box, refusals } = outbox(edge);
    box.begin(grant(1, 0), PLAN, SOURCE, silent);
    state.refuse = new EdgeliveError('unauthorized', 'signature stale');
    box.init(1, '240p', new Uint8Array([1]), INIT_INFO);
    await tick(80);
    state.refuse = undefined;
    await box.whenIdle();
    expect(refusals).toEqual([]);
    expect(calls).toEqual(['rendition 1 240p init-1.mp4']);
  });
});

describe('StreamOutbox LL-HLS parts', () => {
  it('holds parts in memory, never stores them, and announces the renditions of one moment in one call', async () => {
    const calls: PartAnnounce[] = [];
    const { edge } = recordingEdge();
    edge.announceParts = async (_id, body) => void calls.push(body);
    const store = new FlakyStore();
    const recentParts = new RecentParts();
    const box = new StreamOutbox({
      streamId: 'str1',
      store,
      edge,
      metrics: { segmentStored: () => {}, segmentAnnounced: () => {}, uploadBacklog: () => {}, segmentsDropped: () => {} },
      settings: { maxQueuedBytes: 1_000_000, retryBaseMs: 5, retryMaxMs: 20 },
      logger: silent,
      onRefused: () => {},
      recentParts,
    });
    box.begin({ ...grant(2, 7), partSeconds: 0.333 }, PLAN, SOURCE, silent);
    const part = (n: number) => ({ msn: 7, part: n, duration: 0.3, independent: n === 0, last: false, bytes: new Uint8Array([n]) });
    box.part(2, '240p', part(0));
    box.part(2, '120p', part(0));
    box.part(1, '240p', part(1)); // an older epoch's ffmpeg: dropped
    await tick(20);
    expect(calls).toEqual([
      {
        epoch: 2,
        parts: [
          { rendition: '240p', msn: 7, part: 0, epoch: 2, duration: 0.3, independent: true, last: false, file: 'part-7-0-e2.m4s' },
          { rendition: '120p', msn: 7, part: 0, epoch: 2, duration: 0.3, independent: true, last: false, file: 'part-7-0-e2.m4s' },
        ],
      },
    ]);
    expect(recentParts.get('live/str1/240p/part-7-0-e2.m4s')).toEqual(new Uint8Array([0]));
    expect(await store.get('live/str1/240p/part-7-0-e2.m4s')).toBeNull();
  });
});

