import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { rankNodes } from '../../shared/src/hashing/rendezvous.ts';
import { CachingProxy } from '../support/caching-proxy.ts';
import { publishTestPattern, runFfmpeg, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { createStream, fetchText, streamEvents, waitFor } from '../support/e2e-helpers.ts';

/**
 * Multi-CDN delivery on the real chain: three caching reverse proxies on loopback stand in front of
 * the edge as CDNs. One is stopped mid-stream: the CdnHealth object's probes (every 2 s here) mark
 * it down, steering and new playlists leave it, and playback through the others goes on. Time
 * bounds are generous (2 shared cores); bench/ holds real targets.
 */

const PROBE_INTERVAL_S = 2;
const SESSION = 'e2e-session-main';

let stack: LocalStack;
let proxies: CachingProxy[] = [];
const players: FfmpegProcess[] = [];
let publisher: FfmpegProcess | undefined;
let cdns: { id: string; baseUrl: string; weight: number; healthUrl: string }[] = [];


const text = fetchText;

async function priority(streamId: string, sid: string): Promise<string[]> {
  const res = await fetch(`${stack.edgeUrl}/live/${streamId}/steering.json?sid=${sid}&_HLS_pathway=x&_HLS_throughput=1000000`);
  return ((await res.json()) as { 'PATHWAY-PRIORITY': string[] })['PATHWAY-PRIORITY'];
}

beforeAll(async () => {
  const edgePort = await freePort();
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  proxies = await Promise.all(['a', 'b', 'c'].map(async () => new CachingProxy({ upstream: edgeUrl, port: await freePort() })));
  await Promise.all(proxies.map((p) => p.start()));
  cdns = proxies.map((p, i) => ({ id: `cdn-${'abc'[i]}`, baseUrl: p.url, weight: 1, healthUrl: `${p.url}/health` }));
  stack = await startLocalStack({
    ports: { edge: edgePort, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
    edgeVars: {
      CDNS: JSON.stringify(cdns),
      CDN_PROBE_INTERVAL_SECONDS: String(PROBE_INTERVAL_S),
      CDN_PROBE_TIMEOUT_MS: '1000',
      CDN_HEALTH_CACHE_SECONDS: '1',
    },
  });
});

afterAll(async () => {
  for (const p of players) p.child.kill('SIGKILL');
  publisher?.child.kill('SIGKILL');
  await stack?.close();
  await Promise.all(proxies.map((p) => p.close('test over')));
});

describe('multi-CDN delivery through three caching proxies', () => {
  let id: string;
  let ranking: string[];
  let victim: CachingProxy;
  let otherSession: string;

  it('steers a session over the three CDNs in its rendezvous order', async () => {
    // One passed-through rung keeps the transcoder's CPU low.
    const stream = await createStream(stack, { name: 'multi-cdn', ladder: { rungs: [{ name: '360p', height: 360, videoKbps: 800 }], audioKbps: 64 } });
    id = stream.id;
    publisher = publishTestPattern(`${stack.rtmpUrl}/${stream.streamKey}`, { width: 640, height: 360, fps: 25, seconds: 90, videoKbps: 500 });

    ranking = rankNodes(SESSION, cdns).map((c) => c.id);
    // The master through any CDN: every variant once per pathway, in this session's order.
    const master = await waitFor('the master playlist through cdn-a', 40_000, async () => {
      const m = await text(`${proxies[0]!.url}/live/${id}/master.m3u8?sid=${SESSION}`);
      return m.status === 200 ? m : undefined;
    });
    expect(master.body).toContain(`#EXT-X-CONTENT-STEERING:SERVER-URI="${stack.edgeUrl}/live/${id}/steering.json?sid=${SESSION}",PATHWAY-ID="${ranking[0]}"`);
    const uris = master.body.split('\n').filter((l) => l.startsWith('http'));
    expect(uris).toEqual(ranking.map((cdnId) => `${cdns.find((c) => c.id === cdnId)!.baseUrl}/live/${id}/360p/index.m3u8?sid=${SESSION}`));
    expect(await priority(id, SESSION)).toEqual(ranking);
    victim = proxies[cdns.findIndex((c) => c.id === ranking[0])]!;
    otherSession = Array.from({ length: 50 }, (_, i) => `e2e-session-${i}`).find((s) => rankNodes(s, cdns)[0]!.id !== ranking[0])!;
  });

  it('keeps playing through the other CDNs when one stops mid-stream, and drops it from steering and new playlists', async () => {
    const survivorFor = (sid: string) => cdns.find((c) => c.id === rankNodes(sid, cdns).find((n) => n.id !== ranking[0])!.id)!;
    // A viewer whose CDN is not the victim is playing when the victim stops.
    await waitFor('three segments', 30_000, async () => {
      const m = await text(`${stack.edgeUrl}/live/${id}/360p/index.m3u8`);
      return (m.body.match(/#EXTINF/g) ?? []).length >= 3 ? true : undefined;
    });
    const bystander = runFfmpeg(['-loglevel', 'error', '-i', `${rankNodes(otherSession, cdns)[0]!.baseUrl}/live/${id}/360p/index.m3u8?sid=${otherSession}`, '-c', 'copy', '-t', '14', '-f', 'null', '-']);
    players.push(bystander);
    await new Promise((r) => setTimeout(r, 3000));

    await victim.close('stopped by the test');
    const stoppedAt = Date.now();
    await waitFor('the stopped CDN to leave the steering manifest', 30_000, async () => ((await priority(id, SESSION)).includes(ranking[0]!) ? undefined : true));
    const leftAfterMs = Date.now() - stoppedAt;
    console.log(`stopped CDN left the steering manifest ${leftAfterMs} ms after it stopped (probe interval ${PROBE_INTERVAL_S} s, down after 2 failures)`);
    // Two failed probes (hysteresis) plus the isolate's 1 s health cache, with slack for 2 busy cores.
    expect(leftAfterMs).toBeLessThan((3 * PROBE_INTERVAL_S + 1) * 1000 + 8000);
    expect(await priority(id, SESSION)).toEqual(ranking.slice(1));

    const survivor = survivorFor(SESSION);
    const freshMaster = await text(`${survivor.baseUrl}/live/${id}/master.m3u8?sid=${SESSION}`);
    expect(freshMaster.body).not.toContain(ranking[0]!);
    expect(freshMaster.body).not.toContain(victim.url);
    expect(freshMaster.body).toContain(`PATHWAY-ID="${ranking[1]}"`);
    const media = await waitFor('a media playlist rewritten to the surviving CDN', 10_000, async () => {
      const m = await text(`${survivor.baseUrl}/live/${id}/360p/index.m3u8?sid=${SESSION}`);
      return m.body.includes(`${survivor.baseUrl}/live/${id}/360p/seg-`) && !m.body.includes(victim.url) ? m : undefined;
    });
    expect(media.body).toMatch(new RegExp(`#EXT-X-MAP:URI="${survivor.baseUrl}/live/${id}/360p/init-1\\.mp4"`));

    // The victim's viewer, started after the failure was detected, plays through the survivor.
    const survivorProxy = proxies.find((p) => p.url === survivor.baseUrl)!;
    const forwardedBefore = survivorProxy.stats.forwarded.length;
    const player = runFfmpeg(['-loglevel', 'error', '-i', `${survivor.baseUrl}/live/${id}/360p/index.m3u8?sid=${SESSION}`, '-c', 'copy', '-t', '8', '-f', 'null', '-']);
    players.push(player);
    const [playerExit, bystanderExit] = await Promise.all([player.exited, bystander.exited]);
    expect(player.stderr()).toBe('');
    expect(playerExit.code).toBe(0);
    expect(bystander.stderr()).toBe('');
    expect(bystanderExit.code).toBe(0);
    expect(survivorProxy.stats.forwarded.slice(forwardedBefore).some((p) => p.includes('/360p/seg-'))).toBe(true);
    expect(victim.state).toBe('stopped');

    const events = { events: await streamEvents(stack, id) };
    expect(events.events.filter((e) => e.type === 'cdn_health').map((e) => e.data)).toContainEqual({ cdn: ranking[0], state: 'down', reason: 'probe', error: expect.any(String) });
  });

  it('steers back to the CDN once it answers again', async () => {
    await victim.start();
    await waitFor('the CDN to return to the steering manifest', 30_000, async () => ((await priority(id, SESSION))[0] === ranking[0] ? true : undefined));
    expect(await priority(id, SESSION)).toEqual(ranking);
    publisher!.stop();
  });
});
