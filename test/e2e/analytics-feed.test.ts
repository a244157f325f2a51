import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { FeedClient, type FeedSocketConstructor } from '../../shared/src/feed/feed-client.ts';
import type { EventMessage, SnapshotMessage } from '../../shared/src/feed/feed-messages.ts';
import { publishTestPattern, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { adminApi, createStream, streamPath, streamView, waitFor } from '../support/e2e-helpers.ts';

/**
 * The analytics feed on the real chain: ffmpeg publishes over RTMP → origin (one ffmpeg ladder,
 * heartbeats) → edge Worker in workerd, while a FeedClient on Node's own WebSocket (with a feed
 * token) and three polling viewers with their own session ids watch. Generous time bounds: 2 shared
 * cores; bench/viewers-bench.ts holds the real targets.
 */

let stack: LocalStack;
let publisher: FfmpegProcess | undefined;
let feed: FeedClient | undefined;
const viewerTimers: NodeJS.Timeout[] = [];

const api = () => adminApi(stack);


beforeAll(async () => {
  stack = await startLocalStack({
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
  });
});

afterAll(async () => {
  for (const t of viewerTimers) clearInterval(t);
  feed?.close();
  publisher?.child.kill('SIGKILL');
  await stack?.close();
});

describe('analytics feed during a live publish', () => {
  let id: string;
  let streamKey: string;
  const snapshots: SnapshotMessage[] = [];
  const events: EventMessage[] = [];

  it('connects a feed consumer with a feed token and gets a snapshot at once', async () => {
    const created = await createStream(stack, { name: 'feed-e2e', reconnectWindowSeconds: 0, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 400 }], audioKbps: 64 } });
    ({ id, streamKey } = created);
    const issued = await api().POST('/v1/streams/{id}/feed-tokens', { ...streamPath(id), body: {} });
    expect(issued.response.status).toBe(201);
    const { url } = issued.data!;
    expect(url.startsWith(`${stack.edgeUrl.replace(/^http/, 'ws')}/v1/streams/${id}/events?token=`)).toBe(true);
    feed = new FeedClient({ url, WebSocket: globalThis.WebSocket as unknown as FeedSocketConstructor });
    feed.on('snapshot', (m) => snapshots.push(m));
    feed.on('event', (m) => events.push(m));
    feed.start();
    const first = await waitFor('the first snapshot', 10_000, () => snapshots[0]);
    expect(first).toMatchObject({ type: 'snapshot', streamId: id, status: 'idle', viewers: { current: 0 } });
  });

  it('streams the publish events and live snapshots with ingest metrics', async () => {
    publisher = publishTestPattern(`${stack.rtmpUrl}/${streamKey}`, { width: 426, height: 240, fps: 25, seconds: 60, videoKbps: 300 });
    await waitFor('the live event', 30_000, () => events.find((e) => e.event.type === 'live'));
    expect(events.map((e) => e.event.type).slice(0, 2)).toEqual(['publish_accepted', 'live']);
    const withIngest = await waitFor('a snapshot with ingest metrics', 20_000, () => snapshots.find((s) => s.status === 'live' && s.ingest !== null && s.ingest.fps > 0));
    expect(withIngest.ingest!.bitrateKbps).toBeGreaterThan(0);
    // seq grows across every message the consumer got.
    const seqs = [...snapshots, ...events].map((m) => m.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('counts three polling viewers exactly, in the API and in the feed', async () => {
    const master = await waitFor('the master playlist', 30_000, async () => {
      const res = await fetch(`${stack.edgeUrl}/live/${id}/master.m3u8`);
      return res.status === 200 ? res.text() : undefined;
    });
    expect(master).toMatch(/240p\/index\.m3u8\?sid=[A-Za-z0-9_-]{44}\n/);
    // Three viewers, each with its own minted session, polling like a player (every target duration).
    for (let i = 0; i < 3; i++) {
      const m = await (await fetch(`${stack.edgeUrl}/live/${id}/master.m3u8`)).text();
      const variant = m.split('\n').find((l) => l.startsWith('240p/'))!;
      const poll = () => void fetch(`${stack.edgeUrl}/live/${id}/${variant}`).then((r) => r.arrayBuffer()).catch(() => undefined);
      poll();
      viewerTimers.push(setInterval(poll, 2000));
    }
    const sid = /sid=([A-Za-z0-9_-]+)/.exec(master)![1]!;
    expect((await fetch(`${stack.edgeUrl}/live/${id}/beacon`, { method: 'POST', body: JSON.stringify({ sid, startupMs: 1200, playedMs: 4000 }) })).status).toBe(204);

    const counted = await waitFor('a snapshot with three viewers', 20_000, () => snapshots.find((s) => s.viewers.current === 3));
    expect(counted.viewers).toMatchObject({ current: 3, total: 3, renditions: { '240p': 3 } });
    const view = await streamView(stack, id);
    expect(view.viewers).toMatchObject({ current: 3, peak: 3, total: 3 });
    expect(view.qoe).toMatchObject({ beacons: 1, startupMsP50: 1200 });
    const milestone = events.find((e) => e.event.type === 'viewer_milestone');
    expect(milestone?.event.data).toMatchObject({ viewers: 1 });
  });

  it('reports the end when the broadcaster stops: event and snapshot', async () => {
    publisher!.stop();
    const stoppedAt = Date.now();
    const ended = await waitFor('the ended event', 20_000, () => events.find((e) => e.event.type === 'ended'));
    console.log(`ended event on the feed ${Date.now() - stoppedAt} ms after the broadcaster stopped`);
    expect(ended.event.data).toMatchObject({ reason: 'publisher_stopped' });
    await waitFor('an ended snapshot', 10_000, () => snapshots.find((s) => s.status === 'ended'));
  });
});
