import { env, runInDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { INTERNAL_API, partFileName } from '../../../shared/src/internal-api.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { BASE, adminApi, liveStream, rendition, segments, session, signed, text } from '../test-support/edge-client.ts';
import { okData } from '../../../shared/src/api/management-client.ts';
import { feedMessageSchema, type FeedMessage } from '../../../shared/src/feed/feed-messages.ts';
import { ADMIN_TOKEN } from '../test-support/edge-client.ts';
import { SIM_ISOLATE_HEADER } from './isolate-scope.ts';
import { SIM_LOCATION_HEADER, edgeShardName, relayShardName } from './shard-names.ts';
import type { StreamShard } from './stream-shard.ts';

// The fan-out tier in workerd: isolates and locations are played with the simulation headers
// (development only); FANOUT_ENGAGE_ISOLATES is 8 and FANOUT_DISENGAGE_SECONDS 2 in the test bindings.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A playlist request as simulated isolate `isolate` in location `location`. */
function asIsolate(isolate: string, location: string, path: string): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { headers: { [SIM_ISOLATE_HEADER]: isolate, [SIM_LOCATION_HEADER]: location } });
}

function parts(id: string, epoch: number, msn: number, from: number, to: number) {
  const list = [];
  for (let part = from; part <= to; part++) list.push({ rendition: '720p', msn, part, epoch, duration: 0.33334, independent: part === 0, last: false, file: partFileName(msn, part, epoch) });
  return signed(INTERNAL_API.parts(id), { epoch, parts: list });
}

async function llStream() {
  const s = await liveStream();
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '720p'));
  await signed(INTERNAL_API.segments(s.id), segments(s.epoch, '720p', [0, 1]));
  await parts(s.id, s.epoch, 2, 0, 0);
  return s;
}

const doStats = (id: string) => runInDurableObject(streamStub(env, id), (o: StreamDO) => o.viewerCalls());
const shardStats = async (name: string): Promise<ReturnType<StreamShard['stats']>> => await env.STREAM_SHARD.get(env.STREAM_SHARD.idFromName(name)).stats();
const viewers = async (id: string) => (await okData(adminApi().GET('/v1/streams/{id}', { params: { path: { id } } }))).viewers;

/** 12 isolates over 3 locations, each with one viewer session. */
async function audience() {
  const isolates = Array.from({ length: 12 }, (_, i) => ({ isolate: `iso${i}`, location: `L${i % 3}`, sid: '' }));
  for (const v of isolates) v.sid = await session(`viewer${v.isolate.padStart(6, '0')}`); // distinct within the label's 22 characters
  return isolates;
}

describe('the fan-out tier', () => {
  it('engages past FANOUT_ENGAGE_ISOLATES: isolates then subscribe and flush through their edge shard, the StreamDO hears only relay shards, counts stay exact', async () => {
    const { id, epoch } = await llStream();
    const isolates = await audience();
    // Each isolate subscribes directly (small stream) and flushes its viewer.
    for (const v of isolates) expect((await asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?sid=${v.sid}`)).status).toBe(200);
    await sleep(100);
    expect((await doStats(id)).fanout).toBe(true);
    // Next round: every isolate learned `fanout` from the push and renews through its location's edge shard.
    for (let p = 1; p <= 3; p++) {
      const held = isolates.map((v) => asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=${p}&sid=${v.sid}`));
      await sleep(100);
      const announcedAt = Date.now();
      await parts(id, epoch, 2, p, p);
      const answers = await Promise.all(held);
      // Woken through two shards within the same bound as directly (the simulation measures it).
      expect(Date.now() - announcedAt).toBeLessThan(1000);
      for (const res of answers) expect(await text(res)).toContain(`URI="part-2-${p}-e1.m4s"`);
    }
    expect((await shardStats(edgeShardName(id, 'L0'))).subscribers).toBe(4); // the 4 isolates of L0
    // Everything the StreamDO hears now comes from relay shards: at most FANOUT_RELAYS (8) subscriptions.
    const before = await doStats(id);
    for (let p = 4; p <= 5; p++) {
      const held = isolates.map((v) => asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=${p}&sid=${v.sid}`));
      await sleep(50);
      await parts(id, epoch, 2, p, p);
      await Promise.all(held);
    }
    // A poll a second after the last flush sends each isolate's batch (to its edge shard now).
    await sleep(1100);
    for (const v of isolates) await asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?sid=${v.sid}`);
    await sleep(3500); // edge shard, relay shard: one second each
    expect((await shardStats(edgeShardName(id, 'L0'))).calls.recordViewers).toBeGreaterThan(0);
    const after = await doStats(id);
    expect(after.calls.isolateSubscriptions - before.calls.isolateSubscriptions).toBe(0);
    expect(after.subscribers).toBeLessThanOrEqual(3); // one relay shard per location at most
    // Isolates heard directly in the last 10 s still count beside those the relays report (engagement only).
    expect(after.isolates).toBeGreaterThanOrEqual(12);
    const counts = await viewers(id);
    expect(counts).toMatchObject({ current: 12, total: 12 });
    expect(after.relaysCount).toBe(true);
  }, 30_000);

  it('counts a viewer once when its requests move to another location', async () => {
    const { id } = await llStream();
    const isolates = await audience();
    for (const v of isolates) await asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?sid=${v.sid}`);
    await sleep(100);
    // Every viewer now polls through a different isolate in another location.
    for (let round = 0; round < 2; round++) {
      for (const [i, v] of isolates.entries()) {
        const res = await asIsolate(`moved${(i + 5) % 12}`, `L${(i + 1 + round) % 3}`, `/live/${id}/720p/index.m3u8?sid=${v.sid}`);
        expect(res.status).toBe(200);
      }
      await sleep(1100);
    }
    await sleep(2500);
    expect(await viewers(id)).toMatchObject({ current: 12, total: 12 });
    expect((await doStats(id)).relaysCount).toBe(true);
    // Edge shards sent their batches to their home relay only; the relays passed each other their partitions.
    const relays = await Promise.all(Array.from({ length: 8 }, (_, k) => shardStats(relayShardName(id, k))));
    expect(relays.reduce((n, r) => n + r.exchanged, 0)).toBeGreaterThan(0);
    expect(relays.reduce((n, r) => n + r.sessions, 0)).toBe(12);
  }, 30_000);

  it('shares a DVR stream\'s playlists (not pushed) through the shards once engaged: the StreamDO renders them once per relay, not per location', async () => {
    const s = await liveStream({ dvrWindowSeconds: 600 });
    await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '720p'));
    await signed(INTERNAL_API.segments(s.id), segments(s.epoch, '720p', [0, 1, 2]));
    // 24 locations (more than the 8 relays), one isolate and viewer each; every location's Cache API is its own.
    const isolates = Array.from({ length: 24 }, (_, i) => ({ isolate: `dvr${i}`, location: `D${i}`, sid: '' }));
    for (const v of isolates) v.sid = await session(`dvrviewer${String(v.isolate).padStart(6, '0')}`);
    const round = async () => {
      for (const res of await Promise.all(isolates.map((v) => asIsolate(v.isolate, v.location, `/live/${s.id}/720p/index.m3u8?sid=${v.sid}`)))) {
        expect(res.status).toBe(200);
        expect(await text(res)).toContain('seg-2-e1.m4s');
      }
    };
    // Round 1 engages the tier (the flushes reach 8 isolates); round 2 tells every isolate (the flush answers): no push carries it.
    await round();
    await sleep(1100);
    await round();
    expect((await doStats(s.id)).fanout).toBe(true);
    await sleep(1100); // every location's cached copy expires (max-age 1)
    const before = (await doStats(s.id)).calls.mediaPlaylist;
    const shardBefore = await Promise.all(isolates.map(async (v) => (await shardStats(edgeShardName(s.id, v.location))).calls.mediaPlaylist));
    await round();
    const renders = (await doStats(s.id)).calls.mediaPlaylist - before;
    const shardAsked = await Promise.all(isolates.map(async (v, i) => (await shardStats(edgeShardName(s.id, v.location))).calls.mediaPlaylist - shardBefore[i]!));
    // Every location asked its edge shard once; the StreamDO rendered once per relay at most (24 times without the tier).
    expect(shardAsked).toEqual(isolates.map(() => 1));
    expect(renders).toBeGreaterThanOrEqual(1);
    expect(renders).toBeLessThanOrEqual(8);
    // The playlist stays the StreamDO's: a new segment shows at every location once the copies expire.
    await signed(INTERNAL_API.segments(s.id), segments(s.epoch, '720p', [3]));
    await sleep(1600); // location cache 1 s, edge shard 0.5 s, relay 1 s: at most 2.5 s old in all
    await sleep(1000);
    for (const res of await Promise.all(isolates.map((v) => asIsolate(v.isolate, v.location, `/live/${s.id}/720p/index.m3u8?sid=${v.sid}`)))) expect(await text(res)).toContain('seg-3-e1.m4s');
  }, 30_000);

  it('disengages once the stream is served from few isolates for FANOUT_DISENGAGE_SECONDS, and isolates go back to the StreamDO', async () => {
    const { id } = await llStream();
    const isolates = await audience();
    for (const v of isolates) await asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?sid=${v.sid}`);
    await sleep(100);
    expect((await doStats(id)).fanout).toBe(true);
    // Only one isolate keeps watching; the others' sources age out (10 s), then 2 s under the low mark.
    const last = isolates[0]!;
    const engaged = await doStats(id);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await doStats(id)).fanout) {
      await asIsolate(last.isolate, last.location, `/live/${id}/720p/index.m3u8?sid=${last.sid}`);
      await sleep(1000);
    }
    expect((await doStats(id)).fanout).toBe(false);
    await sleep(500); // the relays' sessions are taken back, then this object counts again
    expect(await viewers(id)).toMatchObject({ current: 1, total: 12 });
    expect((await doStats(id)).relaysCount).toBe(false);
    // The remaining isolate subscribed to the StreamDO again as soon as the push said so.
    expect((await doStats(id)).calls.isolateSubscriptions - engaged.calls.isolateSubscriptions).toBeGreaterThanOrEqual(1);
  }, 40_000);

  it('disengages a DVR stream (not pushed) too: its isolates learn it from their edge shard\'s flush answer and flush to the StreamDO again', async () => {
    const s = await liveStream({ dvrWindowSeconds: 600 });
    await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '720p'));
    await signed(INTERNAL_API.segments(s.id), segments(s.epoch, '720p', [0, 1, 2]));
    const isolates = await audience();
    const poll = (v: (typeof isolates)[number]) => asIsolate(v.isolate, v.location, `/live/${s.id}/720p/index.m3u8?sid=${v.sid}`);
    // Round 1 engages the tier; round 2's flushes tell every isolate (no push carries it for a DVR stream).
    for (const v of isolates) await poll(v);
    await sleep(1100);
    for (const v of isolates) await poll(v);
    expect((await doStats(s.id)).fanout).toBe(true);
    // One isolate keeps watching, flushing to its edge shard, until the StreamDO disengages.
    const last = isolates[0]!;
    const shard = edgeShardName(s.id, last.location);
    const shardFlushes = (await shardStats(shard)).calls.recordViewers;
    const isolateSubscriptions = (await doStats(s.id)).calls.isolateSubscriptions;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await doStats(s.id)).fanout) {
      await poll(last);
      await sleep(1000);
    }
    expect((await doStats(s.id)).fanout).toBe(false);
    expect((await shardStats(shard)).calls.recordViewers).toBeGreaterThan(shardFlushes);
    // While engaged, the isolate asked its edge shard whether the stream is pushed, not the StreamDO.
    expect((await doStats(s.id)).calls.isolateSubscriptions).toBe(isolateSubscriptions);
    // The StreamDO's word goes relay → edge shard → the isolate's next flush answer; the flush after that is direct.
    const direct = (await doStats(s.id)).calls.recordViewers;
    const until = Date.now() + 8000;
    while (Date.now() < until && (await doStats(s.id)).calls.recordViewers === direct) {
      await poll(last);
      await sleep(1100);
    }
    expect((await doStats(s.id)).calls.recordViewers).toBeGreaterThan(direct);
    expect(await viewers(s.id)).toMatchObject({ current: 1, total: 12 });
  }, 45_000);

  it('carries analytics-feed consumers at the edge shards once engaged: snapshot at once, then the StreamDO\'s events and snapshots', async () => {
    const { id } = await llStream();
    const isolates = await audience();
    for (const v of isolates) await asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?sid=${v.sid}`);
    await sleep(100);
    expect((await doStats(id)).fanout).toBe(true);
    const res = await SELF.fetch(`${BASE}/v1/streams/${id}/events`, { headers: { upgrade: 'websocket', authorization: `Bearer ${ADMIN_TOKEN}`, [SIM_LOCATION_HEADER]: 'L1' } });
    expect(res.status).toBe(101);
    const messages: FeedMessage[] = [];
    res.webSocket!.addEventListener('message', (ev) => messages.push(feedMessageSchema.parse(JSON.parse(ev.data as string))));
    res.webSocket!.accept();
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(messages.map((m) => (m.type === 'event' ? m.event.type : m.type)))}`);
        await sleep(20);
      }
    };
    await until(() => messages.some((m) => m.type === 'snapshot'));
    expect((await shardStats(edgeShardName(id, 'L1'))).feedConsumers).toBe(1);
    // An event written by the StreamDO reaches the consumer through relay and edge shard.
    expect((await SELF.fetch(`${BASE}/v1/streams/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed' }) })).status).toBe(200);
    await signed(INTERNAL_API.end(id), { epoch: 1, reason: 'publisher_stopped' });
    await until(() => messages.some((m) => m.type === 'event' && m.event.type === 'reconnecting'));
    res.webSocket!.close(1000, 'done');
  }, 30_000);

  it('answers a reload held at an isolate behind two shards right after the part\'s announce', async () => {
    const { id, epoch } = await llStream();
    const isolates = await audience();
    for (const v of isolates) await asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?sid=${v.sid}`);
    await sleep(100);
    // Every isolate now subscribes through its edge shard (the push told it the tier engaged).
    expect((await shardStats(edgeShardName(id, 'L0'))).subscribers).toBeGreaterThan(0);
    const waits: number[] = [];
    for (let p = 1; p <= 5; p++) {
      const held = isolates.map((v) => asIsolate(v.isolate, v.location, `/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=${p}`).then(() => Date.now()));
      await sleep(100);
      const announcedAt = Date.now();
      await parts(id, epoch, 2, p, p);
      waits.push(Math.max(...(await Promise.all(held))) - announcedAt);
    }
    console.log(`fan-out: held reloads behind two shards answered ${waits.join(', ')} ms after each announce (slowest of 12 isolates)`);
    // Under 50 ms on an idle machine (issue 14's bound); CI shares its cores with other test files, so the test allows 250.
    expect(Math.max(...waits)).toBeLessThan(250);
  }, 30_000);
});
