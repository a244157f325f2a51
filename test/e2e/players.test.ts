import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { rankNodes } from '../../shared/src/hashing/rendezvous.ts';
import { CachingProxy } from '../support/caching-proxy.ts';
import { currentTime, launchChromium, openPlaying, watchState } from '../support/chromium.ts';
import { publishTestPattern, runFfmpeg, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { createStream, fetchText, streamView, waitFor } from '../support/e2e-helpers.ts';

/**
 * Real players in headless Chromium on the real chain, with two caching proxies as CDNs in front
 * of the edge: the watch page with hls.js, dash.js on the MPD, ffmpeg on the master, and the watch
 * page playing on through a content-steering failover when its CDN stops.
 */

const PROBE_INTERVAL_S = 2;
let stack: LocalStack;
let proxies: CachingProxy[] = [];
let cdns: { id: string; baseUrl: string; weight: number; healthUrl: string }[] = [];
let browser: Browser;
let publisher: FfmpegProcess | undefined;
let id: string;

/** How far the page's playhead moves in `ms` of wall clock. */
async function playedOver(page: import('playwright-core').Page, ms: number): Promise<number> {
  const from = await currentTime(page);
  await new Promise((r) => setTimeout(r, ms));
  return (await currentTime(page)) - from;
}

beforeAll(async () => {
  const edgePort = await freePort();
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  proxies = await Promise.all(['a', 'b'].map(async () => new CachingProxy({ upstream: edgeUrl, port: await freePort() })));
  await Promise.all(proxies.map((p) => p.start()));
  cdns = proxies.map((p, i) => ({ id: `cdn-${'ab'[i]}`, baseUrl: p.url, weight: 1, healthUrl: `${p.url}/health` }));
  stack = await startLocalStack({
    ports: { edge: edgePort, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
    edgeVars: { CDNS: JSON.stringify(cdns), CDN_PROBE_INTERVAL_SECONDS: String(PROBE_INTERVAL_S), CDN_PROBE_TIMEOUT_MS: '1000', CDN_HEALTH_CACHE_SECONDS: '1' },
  });
  browser = await launchChromium();
  // One passed-through rung keeps the transcoder's CPU low; two seconds a segment.
  const stream = await createStream(stack, { name: 'players', ladder: { rungs: [{ name: '360p', height: 360, videoKbps: 800 }], audioKbps: 64 } });
  id = stream.id;
  expect(stream.playback.dash).toBe(`${stack.edgeUrl}/live/${id}/manifest.mpd`);
  publisher = publishTestPattern(`${stack.rtmpUrl}/${stream.streamKey}`, { width: 640, height: 360, fps: 25, seconds: 240, videoKbps: 500 });
  await waitFor('three segments', 60_000, async () => {
    const m = await fetchText(`${stack.edgeUrl}/live/${id}/360p/index.m3u8`);
    return (m.body.match(/#EXTINF/g) ?? []).length >= 3 ? true : undefined;
  });
});

afterAll(async () => {
  publisher?.child.kill('SIGKILL');
  await browser?.close();
  await stack?.close();
  await Promise.all(proxies.map((p) => p.close('test over')));
});

describe('players in Chromium', () => {
  it('the watch page plays with hls.js for 20 s with no error, and the StreamDO records its startup time', async () => {
    const { page, log } = await openPlaying(browser, `${stack.edgeUrl}/watch/${id}`);
    const played = await playedOver(page, 20_000);
    const state = await watchState(page);
    console.log(`hls.js: startup ${state.startupMs} ms, played ${played.toFixed(1)} s in 20 s, ${state.rebufferCount} rebuffers`);
    expect(state.player).toBe('hls.js');
    expect(state.errors, log.join('\n')).toEqual([]);
    expect(played).toBeGreaterThan(17);
    expect(state.message).toBeNull();
    expect(state.startupMs).toBeGreaterThan(0);
    // It starts at the first buffered frame (the start segment's independent part), not
    // PART-HOLD-BACK into the segment, so the first frame needs one part, not the whole segment.
    expect(state.firstFrame!.bufferedFrom).not.toBeNull();
    expect(Math.abs(state.firstFrame!.position - state.firstFrame!.bufferedFrom!)).toBeLessThan(0.1);
    // The master went over the network once: the page's head preloaded it and hls.js took it from there.
    const entries = await page.evaluate(() => (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((e) => new URL(e.name).pathname.endsWith('/master.m3u8')).map((e) => `${e.initiatorType} ${e.transferSize} B ${Math.round(e.startTime)}-${Math.round(e.responseEnd)} ms`));
    console.log(`hls.js: master entries ${JSON.stringify(entries)}`);
    expect(entries).toHaveLength(1);
    const qoe = await waitFor('the startup beacon in the StreamDO', 15_000, async () => {
      const view = await streamView(stack, id);
      return view.qoe.startupMsP50 !== null ? view.qoe : undefined;
    });
    expect(qoe.startupMsP50).toBe(state.startupMs);
    expect(qoe.beacons).toBeGreaterThanOrEqual(1);
    await page.close();
  });

  it('dash.js plays the MPD for 20 s with no error', async () => {
    const mpd = await fetchText(`${stack.edgeUrl}/live/${id}/manifest.mpd`);
    expect(mpd.status).toBe(200);
    expect(mpd.body).toContain('type="dynamic"');
    const { page, log } = await openPlaying(browser, `${stack.edgeUrl}/watch/${id}?player=dash`);
    const played = await playedOver(page, 20_000);
    const state = await watchState(page);
    console.log(`dash.js: startup ${state.startupMs} ms, played ${played.toFixed(1)} s in 20 s, ${state.rebufferCount} rebuffers`);
    expect(state.player).toBe('dash.js');
    expect(state.errors, log.join('\n')).toEqual([]);
    expect(played).toBeGreaterThan(17);
    await page.close();
  });

  it('ffmpeg still plays the master playlist', async () => {
    // The master is on the edge and its variants on the CDNs: one connection per request, since
    // ffmpeg's persistent HTTP cannot follow a change of host.
    const player = runFfmpeg(['-loglevel', 'error', '-http_persistent', '0', '-i', `${stack.edgeUrl}/live/${id}/master.m3u8`, '-c', 'copy', '-t', '6', '-f', 'null', '-']);
    const exit = await player.exited;
    expect(player.stderr()).toBe('');
    expect(exit.code).toBe(0);
  });

  it('the watch page keeps playing through a content-steering failover when its CDN stops', async () => {
    const { page, log } = await openPlaying(browser, `${stack.edgeUrl}/watch/${id}`);
    const { sid } = await watchState(page);
    const first = rankNodes(sid, cdns)[0]!;
    const victim = proxies[cdns.findIndex((c) => c.id === first.id)]!;
    const survivor = proxies.find((p) => p !== victim)!;
    // hls.js in low-latency mode loads parts at the live edge, whole segments behind it.
    const media = /\/360p\/(?:seg|part)-/;
    await waitFor('media through the first CDN', 15_000, () => (victim.stats.forwarded.some((p) => media.test(p)) ? true : undefined));
    await playedOver(page, 3000);
    const survivorBefore = survivor.stats.forwarded.length;
    await victim.close('stopped by the test');
    const played = await playedOver(page, 25_000);
    const state = await watchState(page);
    console.log(`failover: played ${played.toFixed(1)} s in 25 s after ${first.id} stopped; ${state.rebufferCount} rebuffers, ${state.cdnErrorsSent} CDN error beacons; errors ${JSON.stringify(state.errors.map((e) => `${e.fatal ? 'fatal ' : ''}${e.details}${e.reason ? ` (${e.reason})` : ''}`))}`);
    // Known hls.js behaviour, not hidden: the edge lists segments with absolute URLs on each
    // pathway's own CDN, and hls.js compares the old pathway's segment URLs with the new one's
    // when it merges playlists, so the switch raises "media sequence mismatch" (levelParsingError),
    // fatal with one rendition; the page restarts loading and plays on. Any other fatal error fails.
    const pathwaySwitch = (e: { details: string; reason?: string }) => e.details === 'levelParsingError' && /media sequence mismatch/.test(e.reason ?? '');
    const fatal = state.errors.filter((e) => e.fatal);
    if (fatal.some(pathwaySwitch)) console.log('failover: hls.js reported the pathway switch as a fatal levelParsingError (media sequence mismatch) and the page recovered');
    expect(fatal.filter((e) => !pathwaySwitch(e)), log.join('\n')).toEqual([]);
    expect(played).toBeGreaterThan(15);
    expect(survivor.stats.forwarded.slice(survivorBefore).some((p) => media.test(p))).toBe(true);
    await page.close();
  });
});
