import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { createStream, describeEvents, LIFECYCLE_EVENTS, streamEvents, streamView, waitFor, type CreatedStream, type StreamEventEntry } from '../support/e2e-helpers.ts';
import { publishTestPattern, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { PlaylistWatcher } from '../support/playlist-watcher.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/**
 * Issue #8, the network's side of a broadcast's faults: the origin's links to the edge and to
 * storage each go through a loopback TCP proxy this test owns (test/support/tcp-proxy.ts), paused
 * to make the far side unreachable the way a network blip or a deploy does. Viewers and the edge's
 * own reads of the bucket (ORIGIN_PULL_URL straight at the S3 server) do not go through them, so
 * what the playlists list can be checked against the bucket throughout.
 *
 * What must hold (contract): the broadcaster stays connected and the origin keeps transcoding and
 * storing; afterwards every media sequence number made meanwhile is listed (or listed as EXT-X-GAP)
 * and none ever changes meaning between reloads; nothing listed ever fails to load.
 */

const LADDER = { rungs: [{ name: '180p', height: 180, videoKbps: 300 }], audioKbps: 64 };
const EDGE_OUTAGE_MS = 8_000;

let stack: LocalStack;
let edgeProxy: TcpProxy;
let s3Proxy: TcpProxy;
const processes: FfmpegProcess[] = [];
const watchers: PlaylistWatcher[] = [];

beforeAll(async () => {
  const [edgePort, s3Port] = [await freePort(), await freePort()];
  edgeProxy = await startTcpProxy({ target: { host: '127.0.0.1', port: edgePort } });
  s3Proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: s3Port } });
  stack = await startLocalStack({
    ports: { edge: edgePort, rtmp: 0, originHttp: 0, s3: s3Port, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
    // A window long enough that every segment of an outage is still listed when it is over.
    edgeVars: { ORIGIN_PULL_URL: `http://127.0.0.1:${s3Port}/edgelive-media`, PLAYLIST_WINDOW_SEGMENTS: '40' },
    originEnv: { EDGE_URL: edgeProxy.url(), S3_ENDPOINT: s3Proxy.url(), X264_PRESET: 'ultrafast' },
  });
});

afterAll(async () => {
  for (const p of processes) p.child.kill('SIGKILL');
  for (const w of watchers) await w.close();
  await stack?.close();
  await edgeProxy?.close();
  await s3Proxy?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stream publishing, listed with three segments, watched by a viewer reloading every 500 ms. */
async function liveWatchedStream(name: string): Promise<{ stream: CreatedStream; publisher: FfmpegProcess; watcher: PlaylistWatcher; epoch: number }> {
  const stream = await createStream(stack, { name, ladder: LADDER, segmentSeconds: 1 });
  const publisher = publishTestPattern(`${stack.rtmpUrl}/${stream.streamKey}`, { width: 320, height: 180, fps: 15, gopSeconds: 1, seconds: 180, videoKbps: 200 });
  processes.push(publisher);
  const watcher = new PlaylistWatcher({ url: `${stack.edgeUrl}/live/${stream.id}/180p/index.m3u8`, intervalMs: 500 });
  watchers.push(watcher);
  watcher.start();
  await waitFor('three segments listed', 30_000, () => (watcher.seen.size >= 3 ? true : undefined));
  const { status, epoch } = await streamView(stack, stream.id);
  expect(status).toBe('live');
  return { stream, publisher, watcher, epoch };
}

/** How the far side is unreachable: `pause` is a blackhole (a network blip), `refuse` resets connections (a restart, a deploy). */
type OutageKind = 'pause' | 'refuse';

/** Makes `proxy` unreachable for `ms`, checking the broadcaster stays connected throughout. */
async function outage(proxy: TcpProxy, kind: OutageKind, ms: number, publisher: FfmpegProcess): Promise<{ from: number; to: number }> {
  const from = Date.now();
  if (kind === 'pause') proxy.pause();
  else proxy.refuse();
  while (Date.now() - from < ms) {
    await sleep(250);
    expect(publisher.child.exitCode, `publisher exited during the outage: ${publisher.stderr().slice(0, 300)}`).toBe(null);
  }
  proxy.resume();
  return { from, to: Date.now() };
}

/**
 * A live, watched stream through an outage of `proxy` for `ms`, until the watcher has seen the
 * segments cut meanwhile (about one a second) and two more, and, with `untilLive`, the stream is
 * live again. The range of numbers made during the outage is `(lastBefore, expectedLast]`.
 */
async function throughOutage(name: string, proxy: TcpProxy, kind: OutageKind, ms: number, untilLive: boolean) {
  const { stream, publisher, watcher } = await liveWatchedStream(name);
  await sleep(1000);
  const lastBefore = watcher.msns().at(-1)!;
  const { from, to } = await outage(proxy, kind, ms, publisher);
  const expectedLast = lastBefore + Math.floor(ms / 1000) + 2;
  const outcome = await waitFor(`segment ${expectedLast} listed${untilLive ? ' and the stream live' : ''}`, 40_000, async () => {
    if (publisher.child.exitCode !== null) return 'the publisher was disconnected';
    if ((watcher.msns().at(-1) ?? 0) < expectedLast) return undefined;
    return !untilLive || (await streamView(stack, stream.id)).status === 'live' ? 'caught up' : undefined;
  });
  expect(outcome, publisher.stderr().slice(0, 300)).toBe('caught up');
  const caughtUpMs = Date.now() - to;
  await sleep(1500); // a few more reloads across the catch-up
  await watcher.close();
  const outageMsns = watcher.msns().filter((n) => n > lastBefore && n <= expectedLast);
  console.log(`${name}: caught up ${caughtUpMs} ms after the far side came back; msns ${lastBefore + 1}..${expectedLast} listed`);
  return { stream, publisher, watcher, from, outageMsns };
}

function lifecycleSince(log: StreamEventEntry[], since: number): StreamEventEntry[] {
  return log.filter((e) => e.ts >= since && LIFECYCLE_EVENTS.has(e.type));
}

describe('network faults between the origin and the edge or storage', () => {
  it.each([
    ['pause', 'blackholed'],
    ['refuse', 'refusing connections'],
  ] as const)('edge unreachable (%s: %s) for 8 s: the broadcaster stays connected; afterwards every segment made meanwhile is listed, none renumbered, and the stream is live', async (kind, _how) => {
    const { stream, publisher, watcher, from, outageMsns } = await throughOutage(`edge outage (${kind})`, edgeProxy, kind, EDGE_OUTAGE_MS, true);
    const gaps = outageMsns.filter((n) => watcher.seen.get(n)!.entry.gap);
    console.log(`edge outage (${kind}): gaps: [${gaps.join(', ')}]`);
    expect(watcher.violations).toEqual([]);
    expect(watcher.missing()).toEqual([]);
    expect(publisher.child.exitCode).toBe(null);

    const log = lifecycleSince(await streamEvents(stack, stream.id), from);
    console.log(`edge outage (${kind}): events ${describeEvents(log, from)}`);
    // The StreamDO may have marked the silent origin `error`, and then returns to live with `resumed`.
    const types = log.map((e) => e.type);
    if (types.length > 0) {
      expect(types).toEqual(['error', 'resumed']);
      expect(log[0]!.data).toMatchObject({ reason: 'origin_silent' });
    }
    expect((await streamView(stack, stream.id)).status).toBe('live');
    publisher.stop();
  });

  // 10 s (the fault test asked for) and 25 s (near the 30 s the upload queue must ride out).
  it.each([10, 25])('storage unreachable for %i s: the broadcaster stays connected; the queued segments arrive afterwards under their numbers and every listed URI answers 200', async (seconds) => {
    const { stream, publisher, watcher, from, outageMsns } = await throughOutage(`storage outage ${seconds} s`, s3Proxy, 'pause', seconds * 1000, false);
    expect(watcher.violations).toEqual([]);
    expect(watcher.missing()).toEqual([]);
    // Within what the upload queue must hold (30 s): every segment is stored, none a gap.
    expect(outageMsns.filter((n) => watcher.seen.get(n)!.entry.gap)).toEqual([]);
    expect(outageMsns.map((n) => [n, watcher.seen.get(n)!.status])).toEqual(outageMsns.map((n) => [n, 200]));
    expect(publisher.child.exitCode).toBe(null);

    const log = lifecycleSince(await streamEvents(stack, stream.id), from);
    console.log(`storage outage ${seconds} s: events ${describeEvents(log, from)}`);
    expect(log.map((e) => e.type).filter((t) => t === 'ended' || t === 'reconnecting' || t === 'publish_refused')).toEqual([]);
    expect((await streamView(stack, stream.id)).status).toBe('live');
    publisher.stop();
  });
});
