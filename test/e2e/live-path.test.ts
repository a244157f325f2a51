import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { parseFragment } from '../../shared/src/mp4/fmp4-fragment-info.ts';
import { parseInitSegment } from '../../shared/src/mp4/fmp4-init-info.ts';
import { publishTestPattern, runFfmpeg, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { adminApi, createStream, fetchText, streamEvents, streamView, waitFor } from '../support/e2e-helpers.ts';

/**
 * The whole path on real components: ffmpeg publishes a test pattern over RTMP → node-media-server
 * → ONE ffmpeg ladder → loopback S3 server → edge Worker in workerd → ffmpeg plays the edge's HLS.
 * Time bounds here are generous (2 shared cores, ffmpeg running); bench/ holds the real targets.
 */

let stack: LocalStack;
let publisher: FfmpegProcess | undefined;

const api = () => adminApi(stack);


const text = fetchText;

beforeAll(async () => {
  stack = await startLocalStack({
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
  });
});

afterAll(async () => {
  publisher?.child.kill('SIGKILL');
  await stack?.close();
});

describe('RTMP in, adaptive HLS out at the edge', () => {
  let stream: { id: string; streamKey: string; playback: { hls: string } };

  it('creates a stream with a two-rung ladder through the management API', async () => {
    // Window 0: the broadcaster's stop ends the stream at once (the last test checks ENDLIST).
    const created = await api().POST('/v1/streams', { body: { name: 'e2e', reconnectWindowSeconds: 0, ladder: { rungs: [{ name: '360p', height: 360, videoKbps: 800 }, { name: '240p', height: 240, videoKbps: 400 }], audioKbps: 64 } } });
    expect(created.response.status).toBe(201);
    stream = created.data!;
    expect(stream.playback.hls).toBe(`${stack.edgeUrl}/live/${stream.id}/master.m3u8`);
  });

  it('lists the first segment at the edge a few seconds after the first keyframe', async () => {
    publisher = publishTestPattern(`${stack.rtmpUrl}/${stream.streamKey}`, { width: 640, height: 360, fps: 25, seconds: 40, videoKbps: 600 });
    const master = await waitFor('the master playlist', 30_000, async () => {
      const m = await text(stream.playback.hls);
      return m.status === 200 ? m : undefined;
    });
    const firstListedMs = Date.now() - publisher.startedAt;
    console.log(`first segment listed ${firstListedMs} ms after the publisher started`);
    expect(firstListedMs).toBeLessThan(20_000);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const lines = master.body.split('\n');
    const variants = lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    // 360p is passed through (H.264 at that height, 600k ≤ 800k); 240p is encoded.
    expect(variants.length).toBeGreaterThanOrEqual(1);
    for (const v of variants) {
      expect(v).toMatch(/BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,RESOLUTION=\d+x\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",FRAME-RATE=25\.000/);
    }
  });

  it('serves both renditions with the HLS tags players need, keyframe-aligned', async () => {
    const base = `${stack.edgeUrl}/live/${stream.id}`;
    const media = await waitFor('three segments in both renditions', 30_000, async () => {
      const pair = await Promise.all(['360p', '240p'].map((r) => text(`${base}/${r}/index.m3u8`)));
      return pair.every((p) => p.status === 200 && (p.body.match(/#EXTINF/g) ?? []).length >= 3) ? pair : undefined;
    });
    const master = await text(`${base}/master.m3u8`);
    expect(master.body).toContain('RESOLUTION=640x360');
    expect(master.body).toContain('RESOLUTION=426x240');
    for (const m of media) {
      expect(m.body).toMatch(/^#EXTM3U\n/);
      expect(m.body).toMatch(/#EXT-X-TARGETDURATION:2\n/);
      expect(m.body).toMatch(/#EXT-X-MEDIA-SEQUENCE:\d+\n/);
      expect(m.body).toContain('#EXT-X-INDEPENDENT-SEGMENTS');
      expect(m.body).toMatch(/#EXT-X-MAP:URI="init-1\.mp4"/);
      expect(m.body).toMatch(/#EXT-X-PROGRAM-DATE-TIME:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
      expect(m.body).not.toContain('#EXT-X-ENDLIST');
      const maxAge = Number(/max-age=(\d+)/.exec(m.headers.get('cache-control') ?? '')?.[1]);
      expect(maxAge).toBeGreaterThanOrEqual(1);
      expect(maxAge).toBeLessThanOrEqual(1); // at most half the 2 s target duration
    }
    // Segment N of every rendition starts at the same media time (invariant 5).
    const starts: number[] = [];
    for (const r of ['360p', '240p']) {
      const init = new Uint8Array(await (await fetch(`${base}/${r}/init-1.mp4`)).arrayBuffer());
      const segRes = await fetch(`${base}/${r}/seg-1-e1.m4s`);
      expect(segRes.status).toBe(200);
      expect(segRes.headers.get('cache-control')).toContain('immutable');
      const seg = new Uint8Array(await segRes.arrayBuffer());
      const info = parseInitSegment(init);
      const video = info.tracks.find((t) => t.kind === 'video')!;
      const frag = parseFragment(seg, info).find((f) => f.trackId === video.trackId)!;
      expect(frag.startsWithSync).toBe(true);
      starts.push(frag.baseDecodeTime / video.timescale);
    }
    expect(Math.abs(starts[0]! - starts[1]!)).toBeLessThan(0.05); // within about one frame
  });

  it('refuses a wrong key and an unsupported codec quickly, without disturbing the live stream', async () => {
    const wrongKey = `${stream.id}_${'x'.repeat(32)}`;
    const bad = publishTestPattern(`${stack.rtmpUrl}/${wrongKey}`, { width: 320, height: 240, fps: 10, seconds: 30, videoKbps: 200 });
    const badExit = await bad.exited;
    console.log(`wrong key refused after ${badExit.at - bad.startedAt} ms`);
    expect(badExit.code).not.toBe(0);
    expect(badExit.at - bad.startedAt).toBeLessThan(10_000);

    const otherStream = await createStream(stack, { name: 'sorenson' });
    const flv1 = publishTestPattern(`${stack.rtmpUrl}/${otherStream.streamKey}`, { width: 320, height: 240, fps: 10, seconds: 30, videoKbps: 200, videoCodec: 'flv' });
    const flvExit = await flv1.exited;
    console.log(`unsupported codec refused after ${flvExit.at - flv1.startedAt} ms`);
    expect(flvExit.at - flv1.startedAt).toBeLessThan(10_000);
    const otherView = await streamView(stack, otherStream.id);
    expect(otherView.status).toBe('idle');
    const events = { events: await streamEvents(stack, otherStream.id) };
    expect(JSON.stringify(events.events.find((e) => e.type === 'publish_refused'))).toContain('unsupported_codec');

    const view = await streamView(stack, stream.id);
    expect(view.status).toBe('live');
    const ownEvents = { events: await streamEvents(stack, stream.id) };
    expect(JSON.stringify(ownEvents.events.find((e) => e.type === 'publish_refused'))).toContain('stream_key_invalid');
  });

  it('plays the master playlist from the edge for several seconds with no decode error', async () => {
    const player = runFfmpeg(['-loglevel', 'error', '-i', `${stack.edgeUrl}/live/${stream.id}/master.m3u8`, '-map', '0:v:0', '-map', '0:a:0', '-t', '12', '-f', 'null', '-']);
    const result = await player.exited;
    expect(player.stderr()).toBe('');
    expect(result.code).toBe(0);
  });

  it('ends the stream when the broadcaster stops: ENDLIST within seconds', async () => {
    publisher!.stop();
    const stoppedAt = Date.now();
    const media = await waitFor('EXT-X-ENDLIST', 15_000, async () => {
      const m = await text(`${stack.edgeUrl}/live/${stream.id}/360p/index.m3u8`);
      return m.body.includes('#EXT-X-ENDLIST') ? m : undefined;
    });
    const endedMs = Date.now() - stoppedAt;
    console.log(`ENDLIST served ${endedMs} ms after the broadcaster stopped`);
    expect(endedMs).toBeLessThan(8_000);
    expect(media.body.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    const view = await streamView(stack, stream.id);
    expect(view.status).toBe('ended');
  });
});
