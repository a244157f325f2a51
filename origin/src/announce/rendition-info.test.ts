import { describe, expect, it } from 'vitest';
import { ingestMetrics, renditionInfo } from './rendition-info.ts';

const SOURCE = { videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 240, fps: 15, videoKbps: 300 };
const PLAN = { renditions: [{ name: '240p', height: 240, videoKbps: 500, passthrough: true }, { name: '144p', height: 144, videoKbps: 200, passthrough: false }], audioKbps: 64 };
const INIT_INFO = {
  tracks: [
    { trackId: 1, kind: 'video' as const, timescale: 15360, codec: 'avc1.64000d', width: 256, height: 144, defaultSampleDuration: 0, defaultSampleFlags: 0 },
    { trackId: 2, kind: 'audio' as const, timescale: 48000, codec: 'mp4a.40.2', width: 0, height: 0, defaultSampleDuration: 0, defaultSampleFlags: 0 },
  ],
};

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
