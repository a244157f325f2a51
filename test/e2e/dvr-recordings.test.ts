import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { adminApi, createStream, fetchText, streamEvents, streamPath, streamView, waitFor } from '../support/e2e-helpers.ts';
import { okData } from '../../shared/src/api/management-client.ts';
import { FFMPEG, publishTestPattern, type FfmpegProcess } from '../support/ffmpeg-cli.ts';

/**
 * Recordings on the real chain: a 30 s broadcast recorded across the origin, the loopback S3
 * server and the edge; its VOD playlist played by ffmpeg, its MP4 download read by ffprobe, its
 * poster compared with the picture, and its retention deleting objects (listed from the S3
 * server) and rows.
 */

const FFPROBE = FFMPEG.replace(/ffmpeg$/, 'ffprobe');
/**
 * Child processes run asynchronously: the origin serves origin pull from this very process, so a
 * synchronous spawn would block it and the player would wait for itself.
 */
const execFileAsync = promisify(execFile);
async function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}
async function probe(file: string, entries: string): Promise<string> {
  return (await run(FFPROBE, ['-v', 'error', '-show_entries', entries, '-of', 'csv=p=0', file])).stdout.trim();
}
const SECONDS = 30;
/** Short enough for a test, long enough for the checks before it runs out. */
const RETENTION_SECONDS = 90;

let stack: LocalStack;
let publisher: FfmpegProcess | undefined;
let dir: string;
let s3: S3Client;

const api = () => adminApi(stack);

async function listKeys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: stack.s3.bucket, Prefix: prefix, MaxKeys: 1000 }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgelive-e2e-dvr-'));
  stack = await startLocalStack({
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
    originEnv: { X264_PRESET: 'ultrafast' },
    edgeVars: { MEDIA_PURGE_DELAY_SECONDS: '2' },
  });
  s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  });
});

afterAll(async () => {
  publisher?.child.kill('SIGKILL');
  s3?.destroy();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a recorded 30 s stream becomes VOD, then expires', () => {
  let stream: { id: string; streamKey: string };
  type Recording = { id: string; status: string; durationSeconds: number; bytes: number; renditions: string[]; thumbnailUrl: string; playback: { hls: string; mp4: string } };
  let recording: Recording;

  it('records the live session and serves the latest thumbnail while live', async () => {
    stream = await createStream(stack, {
      name: 'recorded',
      record: true,
      recordingRetentionSeconds: RETENTION_SECONDS,
      // Segments still queued when the broadcaster stops are announced within the window; the
      // stream (and its recording) ends when it runs out.
      reconnectWindowSeconds: 3,
      ladder: { rungs: [{ name: '360p', height: 360, videoKbps: 800 }, { name: '240p', height: 240, videoKbps: 400 }], audioKbps: 64 },
    });
    publisher = publishTestPattern(`${stack.rtmpUrl}/${stream.streamKey}`, { width: 640, height: 360, fps: 25, seconds: SECONDS, videoKbps: 600 });
    const thumb = await waitFor('the latest thumbnail', 30_000, async () => {
      const r = await fetch(`${stack.edgeUrl}/live/${stream.id}/thumbnail.jpg`);
      return r.status === 200 ? r : undefined;
    });
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    expect(thumb.headers.get('cache-control')).toBe('public, max-age=5');
    const file = join(dir, 'latest.jpg');
    writeFileSync(file, Buffer.from(await thumb.arrayBuffer()));
    expect(await probe(file, 'stream=codec_name,width,height')).toBe('mjpeg,320,180');
    // The thumbnail can come before the first whole segment, which opens the recording.
    const statuses = await waitFor('the recording opened', 30_000, async () => {
      const list = await okData(api().GET('/v1/streams/{id}/recordings', streamPath(stream.id)));
      return list.recordings.length > 0 ? list.recordings.map((r) => r.status) : undefined;
    });
    expect(statuses).toEqual(['recording']);
  });

  it('is ready once the broadcast ends, with its duration and bytes', async () => {
    await publisher!.exited;
    recording = await waitFor('the recording ready', 40_000, async () => {
      const list = await okData(api().GET('/v1/streams/{id}/recordings', streamPath(stream.id)));
      return list.recordings[0]?.status === 'ready' ? (list.recordings[0] as Recording) : undefined;
    });
    console.log(`recording ${recording.id}: ${recording.durationSeconds} s, ${recording.bytes} bytes, renditions ${recording.renditions.join(',')}`);
    // Within one segment (2 s) of the media sent.
    expect(Math.abs(recording.durationSeconds - SECONDS)).toBeLessThanOrEqual(2);
    expect(recording.renditions.sort()).toEqual(['240p', '360p']);
    expect(recording.bytes).toBeGreaterThan(0);
    const view = await streamView(stack, stream.id);
    expect(view.status).toBe('ended');
    expect(view.storage.bytes).toBe(recording.bytes);
  });

  it('plays its VOD playlist from start to end with ffmpeg', async () => {
    const master = await fetchText(recording.playback.hls);
    expect(master.status).toBe(200);
    // Cacheable until the recording expires, never longer.
    const maxAge = Number(/max-age=(\d+)/.exec(master.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(RETENTION_SECONDS);
    const media = await fetchText(`${stack.edgeUrl}/vod/${stream.id}/${recording.id}/360p/index.m3u8`);
    expect(media.body).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(media.body.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    // Decode every frame of the top variant; -progress reports how much media was played.
    const played = await (async () => {
      const r = await run(FFMPEG, ['-v', 'error', '-nostats', '-i', recording.playback.hls, '-map', '0:v:0', '-map', '0:a:0', '-f', 'null', '-', '-progress', 'pipe:1']);
      expect(r.code).toBe(0);
      expect(r.stderr.trim()).toBe('');
      return Number([...r.stdout.matchAll(/out_time_us=(\d+)/g)].at(-1)?.[1]) / 1e6;
    })();
    console.log(`ffmpeg played ${played.toFixed(3)} s of the VOD playlist`);
    expect(Math.abs(played - SECONDS)).toBeLessThanOrEqual(2);
  });

  it('downloads an MP4 of the top rendition that ffprobe reads with the right duration', async () => {
    const res = await fetch(recording.playback.mp4);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const file = join(dir, 'download.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const duration = Number(await probe(file, 'format=duration'));
    console.log(`MP4 download: ${duration} s`);
    expect(Math.abs(duration - SECONDS)).toBeLessThanOrEqual(2);
    const streams = (await probe(file, 'stream=codec_name,width,height')).split('\n');
    expect(streams).toContain('h264,640,360');
  });

  it("keeps a poster that is a JPEG of the stream's picture", async () => {
    const res = await fetch(recording.thumbnailUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const poster = join(dir, 'poster.jpg');
    writeFileSync(poster, Buffer.from(await res.arrayBuffer()));
    // The poster is the epoch's first thumbnail: the recording's first frame, scaled to 320x180.
    const frame = join(dir, 'first-frame.png');
    expect((await run(FFMPEG, ['-v', 'error', '-i', join(dir, 'download.mp4'), '-frames:v', '1', '-vf', 'scale=320:180', '-y', frame])).code).toBe(0);
    const psnr = async (other: string) => {
      const r = await run(FFMPEG, ['-hide_banner', '-i', poster, '-i', other, '-lavfi', '[0:v]format=yuv420p[a];[1:v]format=yuv420p,scale=320:180[b];[a][b]psnr', '-f', 'null', '-']);
      return Number(/average:([\d.]+|inf)/.exec(r.stderr)?.[1]?.replace('inf', '99'));
    };
    // A baseline: the same comparison against a flat grey picture of the same size.
    const grey = join(dir, 'grey.png');
    expect((await run(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=gray:size=320x180', '-frames:v', '1', '-y', grey])).code).toBe(0);
    const same = await psnr(frame);
    const baseline = await psnr(grey);
    console.log(`poster vs first frame: PSNR ${same} dB; vs flat grey: ${baseline} dB`);
    expect(same).toBeGreaterThan(18);
    expect(same - baseline).toBeGreaterThan(6);
  });

  it('expires after its retention: objects deleted from the S3 server, rows from the StreamDO', async () => {
    const prefix = `live/${stream.id}/`;
    const before = await listKeys(prefix);
    const finalPlaylist = (await fetchText(`${stack.edgeUrl}/live/${stream.id}/360p/index.m3u8`)).body;
    const stillListed = finalPlaylist.split('\n').filter((l) => l.startsWith('seg-'));
    // The ended stream's index keeps its final window and the two rows before it (PLAYLIST_WINDOW_SEGMENTS + 2):
    // those stay in storage with the stream; everything else the recording held goes.
    const msnOf = (file: string) => Number(/^seg-(\d+)-/.exec(file)![1]);
    const firstKept = msnOf(stillListed[0]!) - 2;
    const inIndex = (k: string) => msnOf(k.slice(k.lastIndexOf('/') + 1)) >= firstKept;
    expect(before.filter((k) => k.includes('/360p/seg-')).length).toBeGreaterThan(stillListed.length + 2);
    await waitFor('the recording purged', (RETENTION_SECONDS + 60) * 1000, async () => {
      const r = await api().GET('/v1/streams/{id}/recordings/{rid}', { params: { path: { id: stream.id, rid: recording.id } } });
      return r.response.status === 404 ? true : undefined;
    });
    let last: string[] = [];
    const after = await waitFor('its objects deleted', 30_000, async () => {
      last = await listKeys(prefix);
      return last.filter((k) => k.includes('/seg-')).every(inIndex) ? last : undefined;
    }).catch(async (err: unknown) => {
      const events = JSON.stringify(await streamEvents(stack, stream.id));
      console.log(`still in storage: ${last.join(' ')}\nlisted: ${stillListed.join(' ')}\nevents: ${events}`);
      throw err;
    });
    const segs = (rendition: string, keys: string[]) => keys.filter((k) => k.includes(`/${rendition}/seg-`)).length;
    for (const rendition of ['360p', '240p']) {
      expect(after.filter((k) => k.includes(`/${rendition}/seg-`)).map((k) => msnOf(k.slice(k.lastIndexOf('/') + 1))).sort((a, b) => a - b)).toEqual(
        Array.from({ length: stillListed.length + 2 }, (_, i) => firstKept + i),
      );
      expect(segs(rendition, before)).toBeGreaterThan(segs(rendition, after));
    }
    expect(after.filter((k) => k.includes('/_thumbs/'))).toEqual([`${prefix}_thumbs/latest.jpg`]);
    expect((await okData(api().GET('/v1/streams/{id}/recordings', streamPath(stream.id)))).recordings).toEqual([]);
    const events = await streamEvents(stack, stream.id);
    expect(events.filter((e) => e.type.startsWith('recording_')).map((e) => e.type)).toEqual(['recording_ready', 'recording_expired', 'recording_purged']);
    expect(events.filter((e) => e.type === 'media_purged').reduce((n, e) => n + (e.data.objects as number), 0)).toBe(before.length - after.length);
    const view = await streamView(stack, stream.id);
    expect(view.storage.bytes).toBeLessThan(recording.bytes);
    expect((await fetch(recording.playback.hls)).status).toBe(404);
  }, (RETENTION_SECONDS + 120) * 1000);
});
