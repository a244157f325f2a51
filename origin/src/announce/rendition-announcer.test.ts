import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { PublishGrant } from '../../../shared/src/schemas.ts';
import type { PackagedSegment } from '../package/rendition-segmenter.ts';
import { MemorySegmentStore } from '../store/memory-segment-store.ts';
import type { EdgeClient } from './edge-client.ts';
import { ingestMetrics, RenditionAnnouncer, renditionInfo } from './rendition-announcer.ts';

const GRANT: PublishGrant = { streamId: 'str1', epoch: 3, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 500 }], audioKbps: 64 }, segmentSeconds: 2, firstMsn: 7 };
const SOURCE = { videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 240, fps: 15, videoKbps: 300 };
const PLAN = { renditions: [{ name: '240p', height: 240, videoKbps: 500, passthrough: true }, { name: '144p', height: 144, videoKbps: 200, passthrough: false }], audioKbps: 64 };
const INIT_INFO = {
  tracks: [
    { trackId: 1, kind: 'video' as const, timescale: 15360, codec: 'avc1.64000d', width: 256, height: 144, defaultSampleDuration: 0, defaultSampleFlags: 0 },
    { trackId: 2, kind: 'audio' as const, timescale: 48000, codec: 'mp4a.40.2', width: 0, height: 0, defaultSampleDuration: 0, defaultSampleFlags: 0 },
  ],
};

function segment(msn: number): PackagedSegment {
  return { msn, duration: 2, startSeconds: 2 * msn, programDateTime: 1_000 + msn, bytes: new Uint8Array([msn]) };
}

/** An edge that records the calls in order and can be told to fail one. */
function recordingEdge(failOn?: string) {
  const calls: string[] = [];
  const edge: EdgeClient = {
    publish: async () => GRANT,
    announceRendition: async (id, b) => void calls.push(`rendition ${id} ${b.epoch} ${b.rendition.name} ${b.rendition.initFile}`),
    announceSegments: async (id, b) => {
      const s = b.segments[0]!;
      if (failOn === `${s.rendition}/${s.msn}`) throw new EdgeliveError('stale_epoch', 'epoch 3 is not current');
      // The first segment is slow: the next one must still wait for it.
      if (s.msn === 7) await new Promise((r) => setTimeout(r, 30));
      calls.push(`segments ${id} ${b.epoch} ${s.rendition}/${s.file}`);
    },
    heartbeat: async (id, b) => void calls.push(`heartbeat ${id} ${b.epoch} ${b.metrics.bitrateKbps}`),
    end: async (id, b) => void calls.push(`end ${id} ${b.epoch} ${b.reason} ${b.message ?? ''}`),
  };
  return { edge, calls };
}

function announcer(edge: EdgeClient, store = new MemorySegmentStore(), errors: string[] = []) {
  const stored: string[] = [];
  return {
    store,
    stored,
    errors,
    announcer: new RenditionAnnouncer({
      streamId: 'str1',
      edge,
      store,
      metrics: { segmentStored: (r, bytes) => void stored.push(`${r} ${bytes}`), segmentAnnounced: () => {} },
      logger: () => pino({ level: 'silent' }),
      onError: async (err, grant) => void errors.push(`${(err as EdgeliveError).code} ${grant.epoch}`),
    }),
  };
}

describe('RenditionAnnouncer', () => {
  it('stores, then announces, in order per rendition', async () => {
    const { edge, calls } = recordingEdge();
    const { announcer: a, store, stored } = announcer(edge);
    a.init(GRANT, renditionInfo(GRANT.epoch, '240p', INIT_INFO, PLAN, SOURCE), new Uint8Array([1, 2]));
    a.segment(GRANT, '240p', segment(7));
    a.segment(GRANT, '240p', segment(8));
    await a.settle();
    expect(calls).toEqual(['rendition str1 3 240p init-3.mp4', 'segments str1 3 240p/seg-7.m4s', 'segments str1 3 240p/seg-8.m4s']);
    expect(store.keys()).toEqual(['live/str1/240p/init-3.mp4', 'live/str1/240p/seg-7.m4s', 'live/str1/240p/seg-8.m4s']);
    expect(stored).toEqual(['240p 1', '240p 1']);
  });

  it('hands a refused announce to onError with its grant and goes on with the next', async () => {
    const { edge, calls } = recordingEdge('240p/8');
    const { announcer: a, errors } = announcer(edge);
    for (const msn of [7, 8, 9]) a.segment(GRANT, '240p', segment(msn));
    await a.settle();
    expect(calls).toEqual(['segments str1 3 240p/seg-7.m4s', 'segments str1 3 240p/seg-9.m4s']);
    expect(errors).toEqual(['stale_epoch 3']);
  });

  it('sends heartbeats and the end under the grant epoch (end messages cut to 500 characters)', async () => {
    const { edge, calls } = recordingEdge();
    const { announcer: a } = announcer(edge);
    await a.heartbeat(GRANT, { bitrateKbps: 364, fps: 15, speed: 1, droppedFrames: 0 });
    await a.end(GRANT, 'transcoder_failed', 'x'.repeat(600));
    expect(calls).toEqual(['heartbeat str1 3 364', `end str1 3 transcoder_failed ${'x'.repeat(500)}`]);
  });
});

describe('renditionInfo', () => {
  it('takes the size from the init segment and declares the source bitrate for a passthrough rung', () => {
    expect(renditionInfo(3, '240p', INIT_INFO, PLAN, SOURCE)).toEqual({
      name: '240p', width: 256, height: 144, codecs: 'avc1.64000d,mp4a.40.2', frameRate: 15, declaredBandwidth: 364_000, initFile: 'init-3.mp4',
    });
  });

  it('declares the rung bitrate for an encoded rung and falls back to the plan without a video track', () => {
    expect(renditionInfo(1, '144p', { tracks: [INIT_INFO.tracks[1]!] }, PLAN, SOURCE)).toEqual({
      name: '144p', width: 320, height: 144, codecs: 'mp4a.40.2', frameRate: 15, declaredBandwidth: 264_000, initFile: 'init-1.mp4',
    });
  });
});

describe('ingestMetrics', () => {
  it('turns one period of received bytes into kbit/s and rounds the dropped frames', () => {
    expect(ingestMetrics(45_500, 1_000, { frame: 10, fps: 14.9, bitrateKbps: 0, speed: 1.01, droppedFrames: 2.6, duplicatedFrames: 0, outTimeSeconds: 1 })).toEqual({ bitrateKbps: 364, fps: 14.9, speed: 1.01, droppedFrames: 3 });
    expect(ingestMetrics(100_000, 2_000, undefined)).toEqual({ bitrateKbps: 400, fps: 0, speed: 0, droppedFrames: 0 });
  });
});
