import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, THUMBNAIL_OUTPUT, type EncodeSettings } from './ffmpeg-args.ts';
import type { TranscodePlan } from './ladder-plan.ts';

const thumbnail = { url: 'unix:/tmp/edgelive/thumb.sock', everySeconds: 10, height: 180 };
const settings: EncodeSettings = { segmentSeconds: 2, preset: 'veryfast', outputUrl: (name) => `unix:/tmp/edgelive/${name}.sock`, thumbnail };
const THUMB_OUTPUT = { rendition: THUMBNAIL_OUTPUT, url: thumbnail.url, options: ['-map', '[thumb]', '-c:v', 'mjpeg', '-q:v', '5', '-fps_mode', 'passthrough', '-f', 'image2pipe'] };

describe('buildFfmpegArgs with thumbnails', () => {
  it('adds a JPEG branch to the same ffmpeg: its own read of the source, one frame every N s, never upscaled', () => {
    const plan: TranscodePlan = {
      renditions: [
        { name: '720p', height: 720, videoKbps: 2800, passthrough: false },
        { name: '360p', height: 360, videoKbps: 800, passthrough: false },
      ],
      audioKbps: 128,
    };
    const args = buildFfmpegArgs(plan, settings);
    expect(args.complexFilter).toBe("[0:v:0]split=2[s0][s1];[s0]scale=-2:720[v0];[s1]scale=-2:360[v1];[0:v:0]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=-2:'min(180,ih)'[thumb]");
    expect(args.outputs.map((o) => o.rendition)).toEqual(['720p', '360p', THUMBNAIL_OUTPUT]);
    expect(args.outputs[2]).toEqual(THUMB_OUTPUT);
  });

  it('makes the thumbnail branch the whole filter graph when every rung is copied', () => {
    const plan: TranscodePlan = { renditions: [{ name: '720p', height: 720, videoKbps: 2800, passthrough: true }], audioKbps: 128 };
    const args = buildFfmpegArgs(plan, settings);
    expect(args.complexFilter).toBe("[0:v:0]select='isnan(prev_selected_t)+gte(t-prev_selected_t,10)',scale=-2:'min(180,ih)'[thumb]");
    expect(args.outputs.at(-1)).toEqual(THUMB_OUTPUT);
  });
});
