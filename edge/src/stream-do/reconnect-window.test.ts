import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { admin, createStream, json, liveStream, publish, rendition, segments, signed, viewer } from '../test-support/edge-client.ts';
import type { StreamDO } from './stream-do.ts';
import { StreamStore } from './stream-store.ts';

function stub(id: string) {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

type View = { status: string; epoch: number; reconnectWindowSeconds: number; reconnectDeadline: number | null; playback: { hls: string }; endedAt: number | null };

async function view(id: string): Promise<View> {
  return json<View>(await admin('GET', `/v1/streams/${id}`));
}

async function events(id: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return (await json<{ events: { type: string; data: Record<string, unknown> }[] }>(await admin('GET', `/v1/streams/${id}/events?limit=1000`))).events;
}

function alarmAt(id: string): Promise<number | null> {
  return runInDurableObject(stub(id), (_do: StreamDO, state) => state.storage.getAlarm());
}

function sql(id: string, query: string): Promise<void> {
  return runInDurableObject(stub(id), (_do: StreamDO, state) => {
    state.storage.sql.exec(query);
  });
}

const METRICS = { bitrateKbps: 1, fps: 30, speed: 1, droppedFrames: 0 };

/** A live stream with segments 0 and 1 of epoch 1 whose publisher then stopped (end reserves `nextMsn`). */
async function disconnected(body: Record<string, unknown> = {}, nextMsn?: number) {
  const stream = await liveStream(body);
  await signed(INTERNAL_API.renditions(stream.id), rendition(1));
  await signed(INTERNAL_API.segments(stream.id), segments(1, '720p', [0, 1]));
  const end = await signed(INTERNAL_API.end(stream.id), { epoch: 1, reason: 'publisher_stopped', ...(nextMsn === undefined ? {} : { nextMsn }) });
  return { ...stream, ended: await json<{ status: string; epoch: number }>(end) };
}

describe('reconnect window after the publisher leaves', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('waits in reconnecting: visible at once, playlists without ENDLIST, the window deadline armed, the registry filter finds it', async () => {
    const { id, ended } = await disconnected({ reconnectWindowSeconds: 45 });
    expect(ended).toEqual({ status: 'reconnecting', epoch: 1 });
    const v = await view(id);
    expect(v).toMatchObject({ status: 'reconnecting', epoch: 1, reconnectWindowSeconds: 45, endedAt: null });
    expect((await events(id)).at(-1)).toEqual(expect.objectContaining({ type: 'reconnecting', data: { epoch: 1, reason: 'publisher_stopped', windowSeconds: 45 } }));
    expect(await alarmAt(id)).toBe(v.reconnectDeadline);
    const playlist = await viewer(`/live/${id}/720p/index.m3u8`);
    expect(playlist.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await playlist.text()).not.toContain('#EXT-X-ENDLIST');
    await runDurableObjectAlarm(stub(id)); // the registry report goes out from the alarm too
    const listed = await json<{ streams: { id: string; status: string }[] }>(await admin('GET', '/v1/streams?status=reconnecting&limit=100'));
    expect(listed.streams).toContainEqual(expect.objectContaining({ id, status: 'reconnecting' }));
  });

  it('takes late uploads of the ended epoch without changing status, but no heartbeat', async () => {
    const { id } = await disconnected();
    expect(await json(await signed(INTERNAL_API.segments(id), segments(1, '720p', [2])))).toEqual({ status: 'reconnecting', epoch: 1, stored: 1, skipped: 0 });
    const heartbeat = await signed(INTERNAL_API.heartbeat(id), { epoch: 1, metrics: METRICS });
    expect(heartbeat.status).toBe(409);
    expect(await heartbeat.json()).toEqual({ error: { code: 'invalid_transition', message: `stream ${id} is reconnecting: epoch 1 was ended by its origin, heartbeats are refused` } });
    // A retried end of the same epoch is answered, not refused.
    expect(await json(await signed(INTERNAL_API.end(id), { epoch: 1, reason: 'publisher_stopped' }))).toEqual({ status: 'reconnecting', epoch: 1 });
    expect((await view(id)).status).toBe('reconnecting');
    expect(await (await viewer(`/live/${id}/720p/index.m3u8`)).text()).toContain('seg-2-e1.m4s\n');
  });

  it('resumes with the same key: same URLs, a new epoch from the reserved msn, older-epoch uploads listed before the discontinuity', async () => {
    const { id, streamKey } = await disconnected({ lowLatency: false }, 5);
    const before = await view(id);
    const grant = await json(await publish(streamKey, undefined, 'node-b'));
    expect(grant).toMatchObject({ streamId: id, epoch: 2, firstMsn: 5 });
    expect(await view(id)).toMatchObject({ status: 'live', epoch: 2, playback: before.playback, reconnectDeadline: null });
    expect((await events(id)).slice(-3).map((e) => e.type)).toEqual(['publish_accepted', 'reconnected', 'live']);
    // The node lists what it had queued from epoch 1 (4 was given up) under its new epoch, then its own.
    await signed(INTERNAL_API.renditions(id), rendition(2));
    const late = segments(2, '720p', [2, 3], 500_000, 2, 1);
    const givenUp = { rendition: '720p', msn: 4, epoch: 1, duration: 1.5, programDateTime: Date.UTC(2025, 0, 1, 0, 0, 8), file: 'seg-4-e1.m4s', bytes: 0, gap: true };
    expect(await json(await signed(INTERNAL_API.segments(id), { epoch: 2, segments: [...late.segments, givenUp] }))).toEqual({ status: 'live', epoch: 2, stored: 3, skipped: 0 });
    await signed(INTERNAL_API.segments(id), segments(2, '720p', [5, 6]));
    expect(await (await viewer(`/live/${id}/720p/index.m3u8?after=resume`)).text()).toBe(`#EXTM3U
#EXT-X-VERSION:8
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0-e1.m4s
#EXTINF:2.000,
seg-1-e1.m4s
#EXTINF:2.000,
seg-2-e1.m4s
#EXTINF:2.000,
seg-3-e1.m4s
#EXT-X-GAP
#EXTINF:1.500,
seg-4-e1.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:10.000Z
#EXTINF:2.000,
seg-5-e2.m4s
#EXTINF:2.000,
seg-6-e2.m4s
`);
    expect((await events(id)).filter((e) => e.type === 'segments_gap').map((e) => e.data)).toEqual([{ rendition: '720p', fromMsn: 4, toMsn: 4, reason: 'not_stored' }]);
  });

  it('ends by alarm exactly at the deadline (reconnect_window_expired): ENDLIST, the key refused', async () => {
    const { id, streamKey } = await disconnected();
    const deadline = (await view(id)).reconnectDeadline!;
    expect(await alarmAt(id)).toBe(deadline);
    await sql(id, 'UPDATE stream SET interrupted_at = interrupted_at - 60000');
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await view(id)).toMatchObject({ status: 'ended', reconnectDeadline: null, endedAt: expect.any(Number) });
    expect((await events(id)).at(-1)).toEqual(expect.objectContaining({ type: 'ended', data: { epoch: 1, reason: 'reconnect_window_expired' } }));
    expect(await (await viewer(`/live/${id}/720p/index.m3u8?after=expiry`)).text()).toContain('#EXT-X-ENDLIST');
    const refused = await publish(streamKey);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('stream_ended');
  });

  it('ends at once with a window of 0', async () => {
    const { id, ended } = await disconnected({ reconnectWindowSeconds: 0 });
    expect(ended).toEqual({ status: 'ended', epoch: 1 });
    expect((await events(id)).at(-1)).toEqual(expect.objectContaining({ type: 'ended', data: { epoch: 1, reason: 'publisher_stopped' } }));
  });

  it('moves the deadline when PATCH changes the window, and renames', async () => {
    const { id } = await disconnected();
    const interruptedAt = (await view(id)).reconnectDeadline! - 60_000;
    const res = await admin('PATCH', `/v1/streams/${id}`, { reconnectWindowSeconds: 5, name: 'renamed' });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, name: 'renamed', status: 'reconnecting', reconnectWindowSeconds: 5, reconnectDeadline: interruptedAt + 5000, playback: { hls: `https://edge.test/live/${id}/master.m3u8` } });
    expect(await alarmAt(id)).toBe(interruptedAt + 5000);
    expect((await events(id)).at(-1)).toEqual(expect.objectContaining({ type: 'updated', data: { reconnectWindowSeconds: 5, name: 'renamed' } }));
  });

  it('refuses a PATCH that changes nothing or is out of range, and one for an unknown stream', async () => {
    const { id } = await createStream();
    for (const [body, message] of [
      [{}, 'body: nothing to update: give name, reconnectWindowSeconds or playbackPolicy'],
      [{ reconnectWindowSeconds: -1 }, 'reconnectWindowSeconds: Too small: expected number to be >=0'],
      [{ reconnectWindowSeconds: 3601 }, 'reconnectWindowSeconds: Too big: expected number to be <=3600'],
      [{ epoch: 3 }, 'body: Unrecognized key: "epoch"; body: nothing to update: give name, reconnectWindowSeconds or playbackPolicy'],
    ] as const) {
      const res = await admin('PATCH', `/v1/streams/${id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'bad_request', message });
    }
    expect((await admin('PATCH', '/v1/streams/zzzzzzzzzzzzzzzz', { name: 'x' })).status).toBe(404);
  });
});

describe('POST /v1/streams/:id/end', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('ends a live stream now; its publisher is refused at the next heartbeat', async () => {
    const { id, epoch } = await liveStream();
    const res = await admin('POST', `/v1/streams/${id}/end`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, status: 'ended', endedAt: expect.any(Number) });
    expect((await events(id)).at(-1)).toEqual(expect.objectContaining({ type: 'ended', data: { epoch, reason: 'ended_by_api' } }));
    const heartbeat = await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: METRICS });
    expect(heartbeat.status).toBe(409);
    expect(((await heartbeat.json()) as { error: { code: string } }).error.code).toBe('invalid_transition');
  });

  it('ends reconnecting and error streams too', async () => {
    const { id } = await disconnected();
    expect(await json(await admin('POST', `/v1/streams/${id}/end`))).toMatchObject({ status: 'ended', reconnectDeadline: null });
    const failed = await liveStream();
    await signed(INTERNAL_API.end(failed.id), { epoch: failed.epoch, reason: 'transcoder_failed' });
    expect(await json(await admin('POST', `/v1/streams/${failed.id}/end`))).toMatchObject({ status: 'ended' });
  });

  it('refuses an idle or ended stream with 409 invalid_transition, logged as a refused transition', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { id } = await createStream();
    const idle = await admin('POST', `/v1/streams/${id}/end`);
    expect(idle.status).toBe(409);
    expect(await idle.json()).toEqual({ error: { code: 'invalid_transition', message: 'cannot end a stream that is idle' } });
    expect((await events(id)).at(-1)).toEqual(expect.objectContaining({ type: 'transition_refused', data: { from: 'idle', event: 'end', message: 'cannot end a stream that is idle' } }));
    const live = await liveStream();
    await admin('POST', `/v1/streams/${live.id}/end`);
    expect((await admin('POST', `/v1/streams/${live.id}/end`)).status).toBe(409);
    expect((await admin('POST', '/v1/streams/zzzzzzzzzzzzzzzz/end')).status).toBe(404);
  });
});

describe('key rotation and delete while live', () => {
  it('revokes the running publish: reconnecting, epoch fenced, the new key publishes at once', async () => {
    const { id, epoch } = await liveStream();
    const rotated = await json<{ streamKey: string }>(await admin('POST', `/v1/streams/${id}/key`));
    expect(await view(id)).toMatchObject({ status: 'reconnecting', epoch: epoch + 1 });
    expect((await events(id)).slice(-2).map((e) => [e.type, e.data])).toEqual([
      ['key_rotated', {}],
      ['reconnecting', { epoch, reason: 'key_rotated', windowSeconds: 60 }],
    ]);
    const old = await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: METRICS });
    expect(old.status).toBe(409);
    expect(await old.json()).toEqual({ error: { code: 'stale_epoch', message: `epoch ${epoch} is not the current epoch ${epoch + 1}` } });
    const grant = await publish(rotated.streamKey, undefined, 'node-b');
    expect(grant.status).toBe(200);
    expect(await json(grant)).toMatchObject({ streamId: id, epoch: epoch + 2 });
    expect((await view(id)).status).toBe('live');
  });

  it('fences the epoch of an error stream too, which stays error', async () => {
    const { id, epoch } = await liveStream();
    await sql(id, 'UPDATE stream SET last_activity_at = last_activity_at - 31000');
    await runDurableObjectAlarm(stub(id));
    await admin('POST', `/v1/streams/${id}/key`);
    expect(await view(id)).toMatchObject({ status: 'error', epoch: epoch + 1 });
    // The silent origin's heartbeat would have resumed the stream; now it is stale.
    expect((await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: METRICS })).status).toBe(409);
  });

  it('answers the publisher of a deleted stream 404 at its next heartbeat', async () => {
    const { id, epoch } = await liveStream();
    expect((await admin('DELETE', `/v1/streams/${id}`)).status).toBe(204);
    const heartbeat = await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: METRICS });
    expect(heartbeat.status).toBe(404);
    expect(await heartbeat.json()).toEqual({ error: { code: 'stream_not_found', message: 'stream not found' } });
  });
});

describe('schema upgrade of an existing StreamDO', () => {
  it('adds the columns an older object lacks, once, with the default window for its stream', async () => {
    const { id } = await createStream();
    const columns = await runInDurableObject(stub(id), (_do: StreamDO, state) => {
      const sqlStorage = state.storage.sql;
      for (const [table, column] of [['stream', 'reconnect_window_seconds'], ['stream', 'reserved_msn'], ['stream', 'interrupted_at'], ['renditions', 'pruned_discontinuities'], ['segments', 'gap']]) {
        sqlStorage.exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
      }
      const store = new StreamStore(sqlStorage);
      store.migrate({ reconnectWindowSeconds: 45 });
      store.migrate({ reconnectWindowSeconds: 45 });
      const names = (table: string) => sqlStorage.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().map((c) => c.name);
      return { stream: names('stream').slice(-3), renditions: names('renditions').at(-1), segments: names('segments').at(-1), row: store.stream() };
    });
    expect(columns).toMatchObject({
      stream: ['reconnect_window_seconds', 'reserved_msn', 'interrupted_at'],
      renditions: 'pruned_discontinuities',
      segments: 'gap',
      row: { reconnect_window_seconds: 45, reserved_msn: 0, interrupted_at: null },
    });
  });
});
