import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import type { SourceInfo } from '../../../shared/src/types.ts';
import { admin, json, liveStream, publish, rendition, segments, signed, viewer } from '../test-support/edge-client.ts';
import { fakeRowStore, fakeWriter, streamRow } from '../test-support/fake-stream.ts';
import type { StreamDO } from './stream-do.ts';
import {
  acceptPublish,
  createStream,
  deleteStream,
  endBroadcast,
  expireWindow,
  failSilentOrigin,
  isPublisherFresh,
  isWindowExpired,
  publishState,
  windowSince,
  type PublishRequest,
} from './stream-lifecycle.ts';
import type { StreamRow } from './stream-schema.ts';

function stub(id: string) {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

function sql(id: string, query: string): Promise<void> {
  return runInDurableObject(stub(id), (_do: StreamDO, state) => {
    state.storage.sql.exec(query);
  });
}

async function events(id: string): Promise<{ seq: number; type: string; data: Record<string, unknown> }[]> {
  return (await json<{ events: { seq: number; type: string; data: Record<string, unknown> }[] }>(await admin('GET', `/v1/streams/${id}/events?limit=1000`))).events;
}

/** A live stream with two segments of epoch 1, then silent long enough for the liveness alarm. */
async function failedStream(): Promise<{ id: string; streamKey: string; hls: string }> {
  const { id, streamKey, epoch } = await liveStream();
  await signed(INTERNAL_API.renditions(id), rendition(epoch));
  await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0, 1]));
  await sql(id, 'UPDATE stream SET last_activity_at = last_activity_at - 31000');
  await runDurableObjectAlarm(stub(id));
  const view = await json<{ status: string; playback: { hls: string } }>(await admin('GET', `/v1/streams/${id}`));
  expect(view.status).toBe('error');
  return { id, streamKey, hls: view.playback.hls };
}

/** Moves the start of the reconnect window (and the last error's time) `ms` into the past. */
function backdateError(id: string, ms: number): Promise<void> {
  return sql(id, `UPDATE stream SET interrupted_at = interrupted_at - ${ms}, last_error = json_set(last_error, '$.at', json_extract(last_error, '$.at') - ${ms})`);
}

describe('reconnect window of an error stream (RECONNECT_WINDOW_SECONDS, 60 s by default)', () => {
  it('resumes within the window: error → live, new epoch, same playback URL, a discontinuity in the playlist', async () => {
    const { id, streamKey, hls } = await failedStream();
    await backdateError(id, 59_000);
    const grant = await json(await publish(streamKey, undefined, 'node-b'));
    expect(grant).toMatchObject({ streamId: id, epoch: 2, firstMsn: 2 });
    const view = await json(await admin('GET', `/v1/streams/${id}`));
    expect(view).toMatchObject({ status: 'live', epoch: 2, playback: { hls } });
    const log = await events(id);
    expect(log.map((e) => e.type)).toEqual(['created', 'publish_accepted', 'live', 'error', 'publish_accepted', 'reconnected', 'live']);
    expect(log[5]?.data).toEqual({ epoch: 2, afterMs: expect.any(Number) });
    expect(log[5]!.data.afterMs as number).toBeGreaterThanOrEqual(59_000);

    await signed(INTERNAL_API.renditions(id), rendition(2));
    await signed(INTERNAL_API.segments(id), segments(2, '720p', [2]));
    const playlist = await (await viewer(`/live/${id}/720p/index.m3u8?after=resume`)).text();
    expect(playlist).toContain('seg-1-e1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-2.mp4"\n');
    expect(playlist).not.toContain('#EXT-X-ENDLIST');
  });

  it('ends an error stream by alarm once the window has passed (reconnect_window_expired); the key is then refused', async () => {
    const { id, streamKey } = await failedStream();
    await backdateError(id, 60_000);
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'ended', endedAt: expect.any(Number) });
    const log = await events(id);
    expect(log.at(-1)).toMatchObject({ type: 'ended', data: { epoch: 1, reason: 'reconnect_window_expired' } });
    const res = await publish(streamKey);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('stream_ended');
    // Viewers see the end: the playlist now closes with ENDLIST.
    expect(await (await viewer(`/live/${id}/720p/index.m3u8?after=expiry`)).text()).toContain('#EXT-X-ENDLIST');
    // At-least-once alarms: running it again changes nothing.
    await runInDurableObject(stub(id), (instance: StreamDO) => instance.alarm());
    expect((await events(id)).filter((e) => e.type === 'ended')).toHaveLength(1);
  });

  it('expires at publish time when the alarm has not run yet', async () => {
    const { id, streamKey } = await failedStream();
    await backdateError(id, 61_000);
    const res = await publish(streamKey);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('stream_ended');
    expect((await events(id)).slice(-2).map((e) => [e.type, e.data.reason])).toEqual([
      ['ended', 'reconnect_window_expired'],
      ['publish_refused', 'stream_ended'],
    ]);
  });
});

describe('repeated ends and refused announces', () => {
  it('answers a repeated end of the same epoch with the status it finds, changing nothing', async () => {
    const { id, epoch } = await liveStream({ reconnectWindowSeconds: 0 });
    expect(await json(await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' }))).toEqual({ status: 'ended', epoch });
    const again = await signed(INTERNAL_API.end(id), { epoch, reason: 'transcoder_failed' });
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual({ status: 'ended', epoch });
    expect((await events(id)).at(-1)).toMatchObject({ type: 'ended', data: { epoch, reason: 'publisher_stopped' } });
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'ended', lastError: null });
  });

  it('does not log refused heartbeats as transitions', async () => {
    const { id, epoch } = await liveStream({ reconnectWindowSeconds: 0 });
    await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' });
    expect((await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 0, fps: 0, speed: 0, droppedFrames: 0 } })).status).toBe(409);
    expect((await events(id)).at(-1)?.type).toBe('ended');
  });
});

describe('event log retention (EVENT_RETENTION_SECONDS, 7 days by default)', () => {
  it('prunes events older than the retention by alarm and keeps seq growing', async () => {
    const { id } = await liveStream();
    await sql(id, `UPDATE events SET ts = ts - ${8 * 86_400_000} WHERE seq <= 2`);
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect((await events(id)).map((e) => [e.seq, e.type])).toEqual([[3, 'live']]);
    await admin('POST', `/v1/streams/${id}/key`);
    // Rotating under a live publish logs the rotation and the revoked publish, after seq 3.
    expect((await events(id)).map((e) => [e.seq, e.type])).toEqual([[3, 'live'], [4, 'key_rotated'], [5, 'reconnecting']]);
  });
});

// Unit tests of the lifecycle writes, on a fake row store and a writer without SQLite.

const NOW = 1_000_000;
const SOURCE: SourceInfo = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30, videoKbps: 3000 };
const REQ: PublishRequest = { keyHash: 'ab'.repeat(32), nodeId: 'node-b', source: SOURCE };

/** A fake store over `row` (nextMsn 7) and a writer whose rollbacks restore it. */
function lifecycle(row: StreamRow | null) {
  const rows = fakeRowStore(row as StreamRow);
  const { writer, log } = fakeWriter(rows.state);
  const inserted: unknown[] = [];
  const store = { ...rows, insertStream: (s: unknown) => inserted.push(s), nextMsn: () => 7 };
  return { store, writer, log, inserted, row: () => rows.state.row, bumps: () => rows.state.bumps };
}

function failedRow(at: number): StreamRow {
  return streamRow({ status: 'error', epoch: 1, interrupted_at: at, reconnect_window_seconds: 30, last_error: JSON.stringify({ reason: 'origin_silent', message: 'x', at }) });
}

describe('lifecycle clocks (pure)', () => {
  it('reads the start of the reconnect window only from a reconnecting or error row', () => {
    expect(windowSince(failedRow(NOW - 5))).toBe(NOW - 5);
    expect(windowSince(streamRow({ status: 'reconnecting', interrupted_at: NOW - 7 }))).toBe(NOW - 7);
    // Rows failed before interrupted_at existed: the last error's time.
    expect(windowSince(streamRow({ status: 'error', last_error: JSON.stringify({ at: 3 }) }))).toBe(3);
    expect(windowSince(streamRow({ status: 'live', interrupted_at: 1, last_error: JSON.stringify({ at: 1 }) }))).toBeNull();
    expect(windowSince(streamRow({ status: 'error' }))).toBeNull();
  });

  it('counts a publisher fresh strictly within the liveness timeout', () => {
    expect(isPublisherFresh(streamRow({ last_activity_at: NOW - 4999 }), NOW, 5000)).toBe(true);
    expect(isPublisherFresh(streamRow({ last_activity_at: NOW - 5000 }), NOW, 5000)).toBe(false);
    expect(isPublisherFresh(streamRow(), NOW, 5000)).toBe(false);
  });

  it("expires the stream's own reconnect window once it has fully run", () => {
    expect(isWindowExpired(failedRow(NOW - 29_999), NOW)).toBe(false);
    expect(isWindowExpired(failedRow(NOW - 30_000), NOW)).toBe(true);
    expect(isWindowExpired({ ...failedRow(NOW - 30_000), reconnect_window_seconds: 31 }, NOW)).toBe(false);
    expect(isWindowExpired(streamRow({ status: 'live', reconnect_window_seconds: 0 }), NOW)).toBe(false);
  });

  it('gives the publish policy the key match and freshness', () => {
    const row = streamRow({ status: 'live', epoch: 3, node_id: 'n1', last_activity_at: NOW - 1000 });
    expect(publishState(row, REQ.keyHash, NOW, 5000)).toEqual({ id: 's1', status: 'live', keyMatches: true, publisherFresh: true, nodeId: 'n1', epoch: 3 });
    expect(publishState(row, 'cd'.repeat(32), NOW, 500).keyMatches).toBe(false);
    expect(publishState(row, 'cd'.repeat(32), NOW, 500).publisherFresh).toBe(false);
  });
});

describe('lifecycle writes (unit)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('creates a stream once', () => {
    const fresh = lifecycle(null);
    const input = { id: 's1', name: 'n', keyHash: 'k', ladder: { rungs: [], audioKbps: 128 }, lowLatency: false, partSeconds: 0.333, dvrWindowSeconds: 0, segmentSeconds: 2, reconnectWindowSeconds: 45 };
    expect(fresh.writer.write((tx) => createStream(fresh.store, tx, input, NOW))).toEqual({ ok: true, value: undefined });
    expect(fresh.inserted).toEqual([{ ...input, createdAt: NOW }]);
    expect(fresh.log.map((e) => [e.type, e.data])).toEqual([['created', { name: 'n', reconnectWindowSeconds: 45 }]]);
    expect(fresh.bumps()).toBe(1);
    const taken = lifecycle(streamRow());
    expect(taken.writer.write((tx) => createStream(taken.store, tx, input, NOW))).toEqual({ ok: false, code: 'conflict', message: 'stream s1 already exists' });
  });

  it('opens epoch 1 from idle', () => {
    const l = lifecycle(streamRow());
    const grant = l.writer.write((tx) => acceptPublish(l.store, tx, l.row(), NOW, REQ));
    expect(grant).toEqual({ ok: true, value: { streamId: 's1', epoch: 1, ladder: { rungs: [], audioKbps: 128 }, segmentSeconds: 2, firstMsn: 7, partSeconds: null } });
    expect(l.row()).toMatchObject({ status: 'live', epoch: 1, node_id: 'node-b', started_at: NOW, last_activity_at: NOW, last_heartbeat_at: null, metrics: null });
    expect(l.log.map((e) => [e.type, e.data])).toEqual([
      ['publish_accepted', { epoch: 1, nodeId: 'node-b', source: SOURCE }],
      ['live', { epoch: 1 }],
    ]);
  });

  it('starts the grant past stored rows, the reservation of the last end and the node own floor', () => {
    const cases: [number, number | undefined, number][] = [
      [0, undefined, 7],
      [9, undefined, 9],
      [9, 11, 11],
      [0, 3, 7],
    ];
    for (const [reserved, minMsn, first] of cases) {
      const l = lifecycle(streamRow({ status: 'reconnecting', epoch: 1, interrupted_at: NOW - 10, reserved_msn: reserved }));
      const grant = l.writer.write((tx) => acceptPublish(l.store, tx, l.row(), NOW, minMsn === undefined ? REQ : { ...REQ, minMsn }));
      expect(grant).toMatchObject({ ok: true, value: { epoch: 2, firstMsn: first } });
      expect(l.row()).toMatchObject({ status: 'live', reserved_msn: first, interrupted_at: null });
      expect(l.log.map((e) => [e.type, e.data])).toContainEqual(['reconnected', { epoch: 2, afterMs: 10 }]);
    }
  });

  it('resumes an error stream with a reconnected event measuring the gap', () => {
    const l = lifecycle(failedRow(NOW - 12_000));
    l.writer.write((tx) => acceptPublish(l.store, tx, l.row(), NOW, REQ));
    expect(l.log.map((e) => [e.type, e.data])).toEqual([
      ['publish_accepted', { epoch: 2, nodeId: 'node-b', source: SOURCE }],
      ['reconnected', { epoch: 2, afterMs: 12_000 }],
      ['live', { epoch: 2 }],
    ]);
  });

  it('takes over a live stream through error (live → error → live), naming the takeover', () => {
    const l = lifecycle(streamRow({ status: 'live', epoch: 4, started_at: 5 }));
    l.writer.write((tx) => acceptPublish(l.store, tx, l.row(), NOW, { ...REQ, takeover: { previousEpoch: 4 } }));
    expect(l.log.map((e) => e.type)).toEqual(['error', 'publish_accepted', 'reconnected', 'live']);
    expect(l.log[0]?.data).toEqual({ epoch: 4, reason: 'origin_taken_over', message: 'taken over by node node-b from epoch 4' });
    expect(l.log[2]?.data).toEqual({ epoch: 5, afterMs: 0 });
    expect(l.row()).toMatchObject({ status: 'live', epoch: 5, started_at: 5 });
  });

  it('ends a broadcast: publisher_stopped → reconnecting (ended with a window of 0), transcoder_failed and node_shutdown → error', () => {
    const stopped = lifecycle(streamRow({ status: 'live', epoch: 2, node_id: 'n1' }));
    const end = { epoch: 2, reason: 'publisher_stopped', nextMsn: 12 } as const;
    expect(stopped.writer.write((tx) => endBroadcast(stopped.store, tx, stopped.row(), NOW, end))).toEqual({ ok: true, value: 'reconnecting' });
    expect(stopped.row()).toMatchObject({ status: 'reconnecting', interrupted_at: NOW, ended_at: null, node_id: null, reserved_msn: 12 });
    expect(stopped.log.map((e) => [e.type, e.data])).toEqual([['reconnecting', { epoch: 2, reason: 'publisher_stopped', windowSeconds: 60 }]]);
    // The retry of the same end changes nothing but never lowers the reservation.
    expect(stopped.writer.write((tx) => endBroadcast(stopped.store, tx, stopped.row(), NOW, { ...end, nextMsn: 3 }))).toEqual({ ok: true, value: 'reconnecting' });
    expect(stopped.row()!.reserved_msn).toBe(12);
    expect(stopped.log).toHaveLength(1);

    const zero = lifecycle(streamRow({ status: 'live', epoch: 2, reconnect_window_seconds: 0 }));
    expect(zero.writer.write((tx) => endBroadcast(zero.store, tx, zero.row(), NOW, { epoch: 2, reason: 'publisher_stopped' }))).toEqual({ ok: true, value: 'ended' });
    expect(zero.row()).toMatchObject({ status: 'ended', ended_at: NOW });
    expect(zero.log.map((e) => [e.type, e.data])).toEqual([['ended', { epoch: 2, reason: 'publisher_stopped' }]]);

    const failed = lifecycle(streamRow({ status: 'live', epoch: 2 }));
    expect(failed.writer.write((tx) => endBroadcast(failed.store, tx, failed.row(), NOW, { epoch: 2, reason: 'node_shutdown' }))).toEqual({ ok: true, value: 'error' });
    expect(JSON.parse(failed.row()!.last_error!)).toEqual({ reason: 'node_shutdown', message: 'the origin node shut down', at: NOW });
    expect(failed.log.map((e) => [e.type, e.data])).toEqual([['error', { epoch: 2, reason: 'node_shutdown', message: 'the origin node shut down' }]]);
    expect(failed.bumps()).toBe(1);
  });

  it('fails a silent origin and expires a reconnect window, once each', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const silent = lifecycle(streamRow({ status: 'live', epoch: 1 }));
    silent.writer.write((tx) => failSilentOrigin(silent.store, tx, silent.row(), NOW, 5000));
    expect(silent.log.map((e) => e.data)).toEqual([{ epoch: 1, reason: 'origin_silent', message: 'no heartbeat or announce for 5s' }]);
    expect(silent.writer.write((tx) => failSilentOrigin(silent.store, tx, silent.row(), NOW, 5000)).ok).toBe(false);

    const expiring = lifecycle(failedRow(NOW - 30_000));
    expiring.writer.write((tx) => expireWindow(expiring.store, tx, expiring.row(), NOW));
    expect(expiring.row()).toMatchObject({ status: 'ended', ended_at: NOW });
    expect(expiring.log.map((e) => [e.type, e.data])).toEqual([['ended', { epoch: 1, reason: 'reconnect_window_expired' }]]);
    expect(expiring.writer.write((tx) => expireWindow(expiring.store, tx, expiring.row(), NOW)).ok).toBe(false);
  });

  it('tombstones from any status', () => {
    const l = lifecycle(streamRow({ status: 'ended' }));
    l.writer.write((tx) => deleteStream(l.store, tx, l.row(), NOW));
    expect(l.row()).toMatchObject({ status: 'ended', deleted_at: NOW, purge_pending: 1 });
    expect(l.log.map((e) => [e.type, e.data])).toEqual([['deleted', { status: 'ended' }]]);
    expect(l.bumps()).toBe(1);
  });
});
