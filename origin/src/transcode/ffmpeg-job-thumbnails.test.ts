import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from './ffmpeg-binary.ts';
import { FfmpegJob } from './ffmpeg-job.ts';

const FFMPEG = resolveFfmpeg(process.env.FFMPEG_PATH).path;
let dir: string;
let flv: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgelive-ffmpeg-thumbs-'));
  // Five seconds of solid red 320x180: a thumbnail of it must be red.
  flv = execFileSync(FFMPEG, [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'color=c=red:size=320x180:rate=10',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '5', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-c:a', 'aac', '-b:a', '32k',
    '-f', 'flv', 'pipe:1',
  ], { maxBuffer: 16 * 1024 * 1024 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FfmpegJob thumbnails', () => {
  it('writes a small JPEG of the picture every N seconds from the same ffmpeg', async () => {
    const thumbnails: Uint8Array[] = [];
    const segments: number[] = [];
    const j = new FfmpegJob({
      jobId: 'thumbs',
      ffmpegPath: FFMPEG,
      plan: { renditions: [{ name: '180p', height: 180, videoKbps: 200, passthrough: false }], audioKbps: 32 },
      segmentSeconds: 1,
      firstMsn: 0,
      preset: 'ultrafast',
      thumbnailSeconds: 2,
      socketDir: dir,
      logger: pino({ level: 'silent' }),
      events: { onInit: () => {}, onSegment: (_r, s) => segments.push(s.msn), onProgress: () => {}, onExit: () => {}, onThumbnail: (jpeg) => thumbnails.push(jpeg) },
    });
    await j.start();
    j.input.write(flv);
    await j.drain(20_000);
    expect(segments.length).toBeGreaterThanOrEqual(4);
    // Frames at 0, 2 and 4 s (the last may be cut by the end of input).
    expect(thumbnails.length).toBeGreaterThanOrEqual(2);
    const first = Buffer.from(thumbnails[0]!);
    expect([...first.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...first.subarray(-2)]).toEqual([0xff, 0xd9]);
    const file = join(dir, 'thumb.jpg');
    writeFileSync(file, first);
    const probe = execFileSync(FFMPEG.replace(/ffmpeg$/, 'ffprobe'), ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', file]).toString().trim();
    expect(probe).toBe('mjpeg,320,180');
    // One pixel of the picture, decoded: red.
    const rgb = execFileSync(FFMPEG, ['-v', 'error', '-i', file, '-vf', 'crop=16:16:152:82', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    expect(rgb[0]).toBeGreaterThan(200);
    expect(rgb[1]).toBeLessThan(60);
    expect(rgb[2]).toBeLessThan(60);
  }, 30_000);
});
