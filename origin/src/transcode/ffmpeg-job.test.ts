import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from './ffmpeg-binary.ts';
import { FfmpegJob, type FfmpegJobEvents } from './ffmpeg-job.ts';

const FFMPEG = resolveFfmpeg(process.env.FFMPEG_PATH).path;
let dir: string;
/** Three seconds of 160x90 H.264 + AAC as FLV, a keyframe each second: what a broadcaster sends. */
let flv: Buffer;

/** `seconds` of a lavfi picture at 10 fps with a tone, H.264 + AAC as FLV, a keyframe each second. */
function testFlv(picture: string, seconds: number): Buffer {
  return execFileSync(FFMPEG, [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `${picture}:rate=10`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-c:a', 'aac', '-b:a', '32k',
    '-f', 'flv', 'pipe:1',
  ], { maxBuffer: 16 * 1024 * 1024 });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgelive-ffmpeg-job-'));
  flv = testFlv('testsrc2=size=160x90', 3);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A job over a one-rung ladder, recording what it reports. */
function job(jobId: string) {
  const seen = { inits: [] as string[], segments: [] as { rendition: string; msn: number }[], progress: 0, exits: [] as (string | undefined)[] };
  const events: FfmpegJobEvents = {
    onInit: (rendition) => seen.inits.push(rendition),
    onSegment: (rendition, s) => seen.segments.push({ rendition, msn: s.msn }),
    onProgress: () => seen.progress++,
    onExit: ({ error }) => seen.exits.push(error?.message),
  };
  const j = new FfmpegJob({
    jobId,
    ffmpegPath: FFMPEG,
    plan: { renditions: [{ name: '90p', height: 90, videoKbps: 100, passthrough: false }], audioKbps: 32 },
    segmentSeconds: 1,
    firstMsn: 5,
    preset: 'ultrafast',
    socketDir: dir,
    logger: pino({ level: 'silent' }),
    events,
  });
  return { job: j, seen };
}

describe('FfmpegJob (spawning the system ffmpeg)', () => {
  it('turns FLV on stdin into an init segment and numbered segments, and exits cleanly when drained', async () => {
    const { job: j, seen } = job('clean');
    await j.start();
    j.input.write(flv);
    await j.drain(20_000);
    expect(j.state).toBe('closed');
    expect(seen.inits).toEqual(['90p']);
    expect(seen.segments.map((s) => s.msn)).toEqual([5, 6, 7]);
    expect(seen.progress).toBeGreaterThan(0);
    expect(seen.exits).toEqual([undefined]);
  });

  it('reports a failure when ffmpeg is killed by someone else', async () => {
    const { job: j, seen } = job('killed');
    await j.start();
    j.input.write(flv.subarray(0, 4096));
    process.kill(j.pid!, 'SIGKILL');
    await j.done;
    expect(seen.exits).toHaveLength(1);
    expect(seen.exits[0]).toMatch(/^ffmpeg failed: ffmpeg was killed with signal SIGKILL; last output: /);
  });

  it('reports nothing as a failure when closed on purpose', async () => {
    const { job: j, seen } = job('closed');
    await j.start();
    j.close('test');
    await j.done;
    expect(seen.exits).toEqual([undefined]);
  });

  it('reports a failure naming the exit code when ffmpeg refuses its input', async () => {
    const { job: j, seen } = job('garbage');
    await j.start();
    j.input.end(Buffer.from('this is not FLV at all'));
    await j.done;
    expect(seen.exits).toHaveLength(1);
    expect(seen.exits[0]).toMatch(/^ffmpeg failed: ffmpeg exited with code \d+; last output: .+/);
  });
});

describe('FfmpegJob thumbnails', () => {
  it('writes a small JPEG of the picture every N seconds from the same ffmpeg', async () => {
    // Five seconds of solid red 320x180: a thumbnail of it must be red.
    const red = testFlv('color=c=red:size=320x180', 5);
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
    j.input.write(red);
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
