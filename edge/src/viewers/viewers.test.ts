import { env } from 'cloudflare:workers';
import { runInDurableObject, SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { AudienceStore } from '../stream-do/audience-store.ts';
import { StreamDO } from '../stream-do/stream-do.ts';
import { admin, BASE, json, liveStream, rendition, segments, session, signed, viewer } from '../test-support/edge-client.ts';
import { dropSessionBuckets } from '../test-support/session-scan-reference.ts';
import { edgeStats } from './edge-stats.ts';
import { emptyQoe } from './viewer-batch.ts';
import { packBatch } from './packed-batch.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function stub(id: string) {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

/** A live stream with segments in 720p and 360p (target duration 2 s, so the viewer window is 6 s). */
async function playableStream(): Promise<string> {
  const { id, epoch } = await liveStream();
  await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
  await signed(INTERNAL_API.renditions(id), rendition(epoch, '360p', { width: 640, height: 360, declaredBandwidth: 928_000 }));
  await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0, 1]));
  await signed(INTERNAL_API.segments(id), segments(epoch, '360p', [0, 1]));
  return id;
}

/** A media poll by the edge-signed session named `label`. */
async function poll(id: string, rendition: string, label: string): Promise<void> {
  const res = await viewer(`/live/${id}/${rendition}/index.m3u8?sid=${await session(label)}`);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

/** Waits for the StreamDO's view to satisfy `check` (flushes run after the response, in waitUntil). */
async function viewUntil<T>(id: string, check: (view: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const view = await json<T>(await admin('GET', `/v1/streams/${id}`));
    if (check(view) || Date.now() > deadline) return view;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Viewers = { viewers: { current: number; peak: number; total: number; renditions: Record<string, number> } };

describe('viewer sessions', () => {
  it('counts media-playlist polls by session: current, peak, total and per rendition', async () => {
    const id = await playableStream();
    await poll(id, '720p', 'viewer-a-0001'); // the isolate's first poll of a stream flushes at once
    await poll(id, '360p', 'viewer-b-0001');
    await poll(id, '720p', 'viewer-c-0001');
    await poll(id, '720p', 'viewer-a-0001'); // a second poll of the same session is the same viewer
    await sleep(1050);
    await poll(id, '720p', 'viewer-d-0001'); // crosses the 1 s boundary: this request flushes the batch
    const view = await viewUntil<Viewers>(id, (v) => v.viewers.total === 4);
    expect(view.viewers).toEqual({ current: 4, peak: 4, total: 4, renditions: { '360p': 1, '720p': 3 } });

    // Sessions not seen within 3 target durations (6 s) no longer count as current; the peak stays.
    const [a, b] = [await session('viewer-a-0001'), await session('viewer-b-0001')];
    await runInDurableObject(stub(id), (_do: StreamDO, state) => {
      state.storage.sql.exec('UPDATE sessions SET last_seen = last_seen - 6001 WHERE sid IN (?, ?)', a, b);
      // Rows changed behind AudienceStore's back: rebuild its counts per second from the table.
      dropSessionBuckets(state.storage.sql);
      new AudienceStore(state.storage.sql).migrate();
    });
    expect((await json<Viewers>(await admin('GET', `/v1/streams/${id}`))).viewers).toEqual({ current: 2, peak: 4, total: 4, renditions: { '720p': 2 } });
  });

  it('serves polls without a session id but does not count them', async () => {
    const id = await playableStream();
    expect((await viewer(`/live/${id}/720p/index.m3u8`)).status).toBe(200);
    expect((await viewer(`/live/${id}/720p/index.m3u8?sid=bad`)).status).toBe(200);
    await sleep(100);
    expect((await json<Viewers>(await admin('GET', `/v1/streams/${id}`))).viewers.total).toBe(0);
  });

  it('serves polls with forged session ids but never counts them or calls the StreamDO for them', async () => {
    const id = await playableStream();
    await poll(id, '720p', 'forgery-warmup'); // render and first flush
    await viewUntil<Viewers>(id, (v) => v.viewers.total === 1);
    const flushes = vi.spyOn(StreamDO.prototype, 'recordViewers');
    const real = await session('forged-0000');
    // Well-formed, right length, wrong tag; and a made-up id of the old 22-character shape.
    const forged = [`${real.slice(0, 43)}${real.endsWith('A') ? 'B' : 'A'}`, 'abcdefghijklmnopqrstuv', `${'z'.repeat(22)}${real.slice(22)}`];
    for (const sid of forged) expect((await viewer(`/live/${id}/720p/index.m3u8?sid=${sid}`)).status).toBe(200);
    await sleep(1050);
    for (const sid of forged) expect((await viewer(`/live/${id}/720p/index.m3u8?sid=${sid}`)).status).toBe(200);
    await sleep(100);
    expect(flushes).toHaveBeenCalledTimes(0);
    expect((await json<Viewers>(await admin('GET', `/v1/streams/${id}`))).viewers.total).toBe(1);
    const res = await SELF.fetch(`${BASE}/live/${id}/beacon`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sid: forged[0], startupMs: 1 }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('sid: session id was not issued by this edge (load the master playlist first)');
  });

  it('logs viewer milestones once the peak reaches 1 and 10', async () => {
    const id = await playableStream();
    await poll(id, '720p', 'milestone-00');
    await sleep(1050);
    for (let i = 1; i < 12; i++) await poll(id, '720p', `milestone-${String(i).padStart(2, '0')}`);
    await sleep(1050);
    await poll(id, '720p', 'milestone-00');
    await viewUntil<Viewers>(id, (v) => v.viewers.total === 12);
    const log = await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(log.events.filter((e) => e.type === 'viewer_milestone').map((e) => e.data)).toEqual([
      { viewers: 1, peak: 1 },
      { viewers: 10, peak: 12 },
    ]);
  });

  it('costs far fewer StreamDO calls than viewer requests (shared playlist cache without sid, batched flushes)', async () => {
    const id = await playableStream();
    await poll(id, '720p', 'warmup-00000'); // first render and first flush
    await viewUntil<Viewers>(id, (v) => v.viewers.total === 1); // that flush has landed
    const renders = vi.spyOn(StreamDO.prototype, 'mediaPlaylist');
    const flushes = vi.spyOn(StreamDO.prototype, 'recordViewers');
    const before = edgeStats.doCalls;
    const sids = await Promise.all(Array.from({ length: 200 }, (_, i) => session(`burst-${String(i).padStart(5, '0')}`)));
    const responses = await Promise.all(sids.map((sid) => viewer(`/live/${id}/720p/index.m3u8?sid=${sid}`)));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(responses.every((r) => r.headers.get('cache-control') === 'public, max-age=1')).toBe(true);
    // The rendered playlist was cached without the sid; the 200 sessions wait in the isolate's batch.
    expect(renders).toHaveBeenCalledTimes(0);
    expect(flushes).toHaveBeenCalledTimes(0);
    expect(edgeStats.doCalls - before).toBe(0);
    await sleep(1050);
    await poll(id, '720p', 'burst-00000');
    expect((await viewUntil<Viewers>(id, (v) => v.viewers.total === 201)).viewers.current).toBe(201);
    expect(flushes).toHaveBeenCalledTimes(1);
  });

  it('gives each master request a session id unless it brings one', async () => {
    const id = await playableStream();
    const minted = await (await viewer(`/live/${id}/master.m3u8`)).text();
    const sid = /720p\/index\.m3u8\?sid=([A-Za-z0-9_-]{44})\n/.exec(minted)?.[1];
    expect(sid).toBeDefined();
    expect(minted).toContain(`360p/index.m3u8?sid=${sid}\n`);
    const kept = await viewer(`/live/${id}/master.m3u8?sid=my-session-01`);
    expect(kept.headers.get('cache-control')).toBe('public, max-age=2');
    expect(await kept.text()).toContain('720p/index.m3u8?sid=my-session-01\n');
  });
});

describe('POST /live/:id/beacon', () => {
  /** A beacon; a well-formed `sid` label is replaced by the edge-signed session of that name. */
  async function beacon(id: string, body: unknown): Promise<Response> {
    if (typeof body === 'object' && body !== null && 'sid' in body && typeof body.sid === 'string' && body.sid.length >= 8) body = { ...body, sid: await session(body.sid) };
    return SELF.fetch(`${BASE}/live/${id}/beacon`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  it('keeps one startup time per session across isolates: 20 isolates passing on the same session cannot move the median', async () => {
    const id = await playableStream();
    // What 20 isolates (each with its own per-isolate dedupe) would flush for one loud session, then one quiet session.
    const batch = (sid: string, ms: number) => ({ sessions: [], qoe: { ...emptyQoe(), beacons: 1, startups: [{ sid, ms }] } });
    for (let i = 0; i < 20; i++) expect((await stub(id).recordViewers(packBatch(batch('loud-session-0001', 60_000)))).ok).toBe(true);
    expect((await stub(id).recordViewers(packBatch(batch('quiet-session-001', 700)))).ok).toBe(true);
    const view = await json<{ qoe: { beacons: number; startupMsP50: number | null } }>(await admin('GET', `/v1/streams/${id}`));
    // Two samples (60000 and 700): the lower median is 700. Counted per batch, it would be 60000.
    expect(view.qoe).toMatchObject({ beacons: 21, startupMsP50: 700 });
  });

  it('carries the player errors a beacon reports into the per-minute analytics of its stream', async () => {
    const id = await playableStream();
    expect((await beacon(id, { sid: 'qoe-err-00001', playedMs: 2000, errors: 2 })).status).toBe(204);
    await vi.waitFor(async () => {
      // Open or already closed by the alarm at a minute's end: the sums are the same.
      const sums = await runInDurableObject(stub(id), (_o: StreamDO, state) =>
        state.storage.sql.exec<{ errors: number; played_ms: number }>('SELECT SUM(errors) AS errors, SUM(played_ms) AS played_ms FROM (SELECT errors, played_ms FROM analytics_open UNION ALL SELECT errors, played_ms FROM analytics_minutes)').one(),
      );
      expect(sums).toEqual({ errors: 2, played_ms: 2000 });
    });
  });

  it('aggregates QoE per stream: beacons, median startup, rebuffer ratio, switches', async () => {
    const id = await playableStream();
    expect((await beacon(id, { sid: 'qoe-a-000001', startupMs: 900, playedMs: 9000, switches: [{ from: '360p', to: '720p' }] })).status).toBe(204);
    expect((await beacon(id, { sid: 'qoe-b-000001', startupMs: 1500, playedMs: 8000, rebufferCount: 1, rebufferMs: 1000 })).status).toBe(204);
    expect((await beacon(id, { sid: 'qoe-c-000001', startupMs: 700, playedMs: 1000, switches: [{ from: '720p', to: '360p' }] })).status).toBe(204);
    await sleep(1050);
    expect((await beacon(id, { sid: 'qoe-a-000001', playedMs: 1000 })).status).toBe(204);
    const view = await viewUntil<{ qoe: { beacons: number } }>(id, (v) => v.qoe.beacons === 4);
    expect(view.qoe).toEqual({ beacons: 4, startupMsP50: 900, rebufferCount: 1, rebufferRatio: 0.05, switches: 2 });
    const log = await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    // The first beacon flushed alone; the second batch carried the other switch.
    expect(log.events.filter((e) => e.type === 'quality_switch').map((e) => e.data)).toEqual([
      { count: 1, switches: { '360p>720p': 1 } },
      { count: 1, switches: { '720p>360p': 1 } },
    ]);
  });

  it.each([
    ['a malformed session id', { sid: 'x' }, 'sid: session id must be 8-64 of [A-Za-z0-9_-]'],
    ['a negative startup time', { sid: 'valid-sid-01', startupMs: -1 }, 'startupMs: Too small: expected number to be >=0'],
    ['an unknown field', { sid: 'valid-sid-01', colour: 'red' }, 'body: Unrecognized key: "colour"'],
    ['a bad rendition name', { sid: 'valid-sid-01', switches: [{ from: '720p', to: '../x' }] }, 'switches.0.to: rendition name must be 1-16 of [a-z0-9_-], starting with a letter or digit'],
  ])('refuses %s with 400 naming the field', async (_label, body, message) => {
    const id = await playableStream();
    const res = await beacon(id, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message } });
  });

  it('refuses bodies over 4 KiB with 413, non-JSON with 400, and unknown-format ids with 404', async () => {
    const id = await playableStream();
    expect((await beacon(id, { sid: 'valid-sid-01', pad: 'x'.repeat(4096) })).status).toBe(413);
    expect((await beacon(id, '{not json')).status).toBe(400);
    expect((await beacon('BAD', { sid: 'valid-sid-01' })).status).toBe(404);
  });

  it('rate-limits a session to one beacon a second per isolate (429)', async () => {
    const id = await playableStream();
    expect((await beacon(id, { sid: 'rate-limited-1' })).status).toBe(204);
    const second = await beacon(id, { sid: 'rate-limited-1' });
    expect(second.status).toBe(429);
    expect(await second.json()).toEqual({ error: { code: 'rate_limited', message: `session ${await session('rate-limited-1')} sends beacons too often` } });
    expect((await beacon(id, { sid: 'rate-limited-2' })).status).toBe(204);
  });
});
