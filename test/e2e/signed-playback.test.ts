import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { currentTime, launchChromium, openPlaying, watchState } from '../support/chromium.ts';
import { publishTestPattern, runFfmpeg, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { adminApi, createStream, fetchText, streamPath, waitFor, type CreatedStream } from '../support/e2e-helpers.ts';

/**
 * A `signed` stream on real components: ffmpeg publishes over RTMP → origin → loopback S3 → edge
 * Worker in workerd; a playback token minted by the management API lets ffmpeg play the master
 * (every playlist, init and segment URL the edge writes carries it); the same master without the
 * token is refused; the watch page given `?token=` plays it in Chromium with hls.js (LL-HLS parts
 * and preload hints carry the token too) and with dash.js. Time bounds are generous (2 shared cores).
 */

let stack: LocalStack;
let publisher: FfmpegProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  stack = await startLocalStack({
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
  });
});

afterAll(async () => {
  publisher?.child.kill('SIGKILL');
  await browser?.close();
  await stack?.close();
});

/** The last `frame=` count ffmpeg's `-progress` output reported. */
function framesDecoded(stderr: string): number {
  const counts = [...stderr.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1]));
  return counts.at(-1) ?? 0;
}

describe('a signed stream end to end', () => {
  let stream: CreatedStream;
  let tokenUrl: string;
  let token: string;

  it('is created signed, and its tokens are minted by the management API', async () => {
    stream = await createStream(stack, { name: 'signed-e2e', playbackPolicy: 'signed', reconnectWindowSeconds: 0, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 400 }], audioKbps: 64 } });
    expect(stream.playbackPolicy).toBe('signed');
    const minted = await adminApi(stack).POST('/v1/streams/{id}/playback-tokens', { ...streamPath(stream.id), body: { ttlSeconds: 600, viewerId: 'e2e-viewer' } });
    expect(minted.response.status).toBe(201);
    const body = minted.data!;
    token = body.token;
    tokenUrl = body.playback.hls;
    expect(tokenUrl).toBe(`${stack.edgeUrl}/live/${stream.id}/master.m3u8?token=${token}`);
    expect(body.expiresAt - Date.now()).toBeGreaterThan(590_000);
  });

  it('serves the master with the token once live, and refuses it without', async () => {
    publisher = publishTestPattern(`${stack.rtmpUrl}/${stream.streamKey}`, { width: 426, height: 240, fps: 25, seconds: 120, videoKbps: 300 });
    const master = await waitFor('the master playlist with a token', 40_000, async () => {
      const m = await fetchText(tokenUrl);
      return m.status === 200 ? m : undefined;
    });
    expect(master.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    expect(master.body).toMatch(new RegExp(`\\n240p/index\\.m3u8\\?sid=[A-Za-z0-9_-]+&token=${token.replaceAll('.', '\\.')}\\n`));
    const refused = await fetchText(stream.playback.hls);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({
      error: { code: 'unauthorized', message: `stream ${stream.id} is signed: add ?token= with a token from POST /v1/streams/${stream.id}/playback-tokens` },
    });
    expect((await fetchText(`${stream.playback.hls}?token=${token.slice(0, -2)}xx`)).status).toBe(403);
  });

  it('carries the token into segment URLs; a segment without it is 401, with it 200', async () => {
    const base = `${stack.edgeUrl}/live/${stream.id}/240p`;
    const media = await waitFor('two segments listed', 30_000, async () => {
      const m = await fetchText(`${base}/index.m3u8?token=${token}`);
      return m.status === 200 && (m.body.match(/#EXTINF/g) ?? []).length >= 2 ? m : undefined;
    });
    const segment = media.body.split('\n').find((l) => l.startsWith('seg-'))!;
    expect(segment).toMatch(new RegExp(`^seg-\\d+-e1\\.m4s\\?token=${token.replaceAll('.', '\\.')}$`));
    expect(media.body).toContain(`#EXT-X-MAP:URI="init-1.mp4?token=${token}"`);
    const bare = segment.slice(0, segment.indexOf('?'));
    expect((await fetch(`${base}/${bare}`)).status).toBe(401);
    const ok = await fetch(`${base}/${segment}`);
    expect(ok.status).toBe(200);
    expect((await ok.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  });

  it('plays in ffmpeg with the token URL, and ffmpeg is refused without it', async () => {
    const player = runFfmpeg(['-loglevel', 'error', '-progress', 'pipe:2', '-i', tokenUrl, '-map', '0:v:0', '-t', '3', '-f', 'null', '-']);
    const played = await player.exited;
    const frames = framesDecoded(player.stderr());
    console.log(`signed playback: ffmpeg decoded ${frames} frames from the token URL`);
    expect(played.code).toBe(0);
    expect(frames).toBeGreaterThanOrEqual(50); // 3 s at 25 fps is 75; a little slack at the cut

    const denied = runFfmpeg(['-loglevel', 'error', '-i', stream.playback.hls, '-t', '3', '-f', 'null', '-']);
    const refused = await denied.exited;
    expect(refused.code).not.toBe(0);
    expect(denied.stderr()).toContain('401');
  });

  it.each(['hls.js', 'dash.js'])('plays on the watch page given ?token= with %s for 10 s with no error', async (player) => {
    browser ??= await launchChromium();
    const query = player === 'dash.js' ? `?player=dash&token=${token}` : `?token=${token}`;
    const { page, log } = await openPlaying(browser, `${stack.edgeUrl}/watch/${stream.id}${query}`);
    const from = await currentTime(page);
    await new Promise((r) => setTimeout(r, 10_000));
    const played = (await currentTime(page)) - from;
    const state = await watchState(page);
    console.log(`signed playback, watch page with ${player}: startup ${state.startupMs} ms, played ${played.toFixed(1)} s in 10 s`);
    expect(state.player).toBe(player);
    expect(state.errors, log.join('\n')).toEqual([]);
    expect(played).toBeGreaterThan(8);
    if (player === 'hls.js') {
      // The page's head preloaded the master, the first media playlist and its init segment (token
      // carried); hls.js took the playlists from the page and the init segment from the browser's cache.
      const early = await page.evaluate(() => {
        const firstFrame = (window as unknown as { edgelive: { firstFrameMs: number } }).edgelive.firstFrameMs;
        return (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
          .filter((e) => e.startTime <= firstFrame && /\.(m3u8|mp4)$/.test(new URL(e.name).pathname))
          .map((e) => ({ file: new URL(e.name).pathname.split('/').at(-1)!, token: new URL(e.name).searchParams.has('token'), by: e.initiatorType, bytes: e.transferSize }));
      });
      console.log(`signed playback, watch page with hls.js: requests before the first frame ${JSON.stringify(early)}`);
      expect(early.filter((e) => e.by === 'link').map((e) => [e.file.replace(/^init-\d+/, 'init'), e.token])).toEqual([['master.m3u8', true], ['index.m3u8', true], ['init.mp4', true]]);
      expect(early.filter((e) => e.by === 'xmlhttprequest' && e.bytes > 0 && !e.file.endsWith('index.m3u8') && !e.file.startsWith('part-'))).toEqual([]);
    }
    await page.close();
  });
});
