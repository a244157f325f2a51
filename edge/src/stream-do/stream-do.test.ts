import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { admin, json, liveStream, rendition, segments, signed, viewer } from '../test-support/edge-client.ts';
import type { StreamDO } from './stream-do.ts';

function stub(id: string) {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

describe('StreamDO liveness alarm', () => {
  it('is armed while live and leaves a fresh stream live', async () => {
    const { id } = await liveStream();
    const alarm = await runInDurableObject(stub(id), (_do: StreamDO, state) => state.storage.getAlarm());
    expect(alarm).toEqual(expect.any(Number));
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'live' });
    // It re-armed itself for the next deadline.
    expect(await runInDurableObject(stub(id), (_do: StreamDO, state) => state.storage.getAlarm())).toEqual(expect.any(Number));
  });

  it('moves a silent live stream to error with reason origin_silent, once', async () => {
    const { id, epoch } = await liveStream();
    await runInDurableObject(stub(id), (_do: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET last_activity_at = last_activity_at - 31000');
    });
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    const view = await json(await admin('GET', `/v1/streams/${id}`));
    expect(view).toMatchObject({ status: 'error', lastError: { reason: 'origin_silent', message: 'no heartbeat or announce for 30s', at: expect.any(Number) } });
    // At-least-once delivery: running the handler again changes nothing and leaves no alarm.
    await runInDurableObject(stub(id), (instance: StreamDO) => instance.alarm());
    const events = await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(events.events.map((e) => e.type)).toEqual(['created', 'publish_accepted', 'live', 'error']);
    expect(events.events[3]?.data).toEqual({ epoch, reason: 'origin_silent', message: 'no heartbeat or announce for 30s' });
    // The only timer left is the end of the reconnect window (60 s by default).
    const errorAt = (view as { lastError: { at: number } }).lastError.at;
    expect(await runInDurableObject(stub(id), (_do: StreamDO, state) => state.storage.getAlarm())).toBe(errorAt + 60_000);
    expect(view).toMatchObject({ reconnectWindowSeconds: 60, reconnectDeadline: errorAt + 60_000 });
  });

  it('resumes an origin_silent stream when its origin speaks again in the same epoch: the edge, not the origin, was away', async () => {
    const { id, epoch } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0]));
    await runInDurableObject(stub(id), (_do: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET last_activity_at = last_activity_at - 31000');
    });
    await runDurableObjectAlarm(stub(id));
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'error', lastError: { reason: 'origin_silent' } });
    // What the origin made meanwhile is listed as it arrives, and the heartbeat resumes the epoch.
    expect(await json(await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [1, 2])))).toEqual({ status: 'live', epoch, stored: 2, skipped: 0 });
    expect(await json(await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 1, fps: 1, speed: 1, droppedFrames: 0 } }))).toEqual({ status: 'live', epoch });
    const events = await json<{ events: { type: string; data: Record<string, unknown> }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(events.events.map((e) => e.type)).toEqual(['created', 'publish_accepted', 'live', 'error', 'resumed']);
    expect(events.events[4]?.data).toEqual({ epoch, afterMs: expect.any(Number) });
    // Same epoch, same timeline: no discontinuity anywhere.
    const playlist = await (await viewer(`/live/${id}/720p/index.m3u8`)).text();
    expect(playlist).not.toContain('#EXT-X-DISCONTINUITY');
    expect(playlist).toContain(`seg-2-e${epoch}.m4s`);
    // Live again: the liveness alarm is armed, not the window's end.
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'live', reconnectDeadline: null });
  });

  it('counts a heartbeat as activity', async () => {
    const { id, epoch } = await liveStream();
    await runInDurableObject(stub(id), (_do: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET last_activity_at = last_activity_at - 31000');
    });
    await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 1, fps: 1, speed: 1, droppedFrames: 0 } });
    await runDurableObjectAlarm(stub(id));
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'live' });
  });
});

describe('StreamDO delete', () => {
  it('purges the stream media from R2 and leaves other streams alone', async () => {
    const { id, epoch } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0]));
    await env.MEDIA.put(`live/${id}/720p/init-1.mp4`, 'init');
    await env.MEDIA.put(`live/${id}/720p/seg-0.m4s`, 'seg');
    await env.MEDIA.put('live/otherstream00000/720p/seg-0.m4s', 'keep');
    expect((await admin('DELETE', `/v1/streams/${id}`)).status).toBe(204);
    await runDurableObjectAlarm(stub(id));
    expect((await env.MEDIA.list({ prefix: `live/${id}/` })).objects).toEqual([]);
    expect(await env.MEDIA.head('live/otherstream00000/720p/seg-0.m4s')).not.toBeNull();
    // Once the registry holds the tombstone, the object deletes its whole storage.
    const tables = await runInDurableObject(stub(id), (_do: StreamDO, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'").toArray(),
    );
    expect(tables).toEqual([]);
    expect((await admin('GET', `/v1/streams/${id}`)).status).toBe(404);
    // Announces for a deleted stream find nothing.
    const res = await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 0, fps: 0, speed: 0, droppedFrames: 0 } });
    expect(res.status).toBe(404);
  });
});

describe('StreamDO.recordEvent', () => {
  it('appends an outside event to the log, and refuses a deleted stream', async () => {
    const { id } = await liveStream();
    const data = { cdn: 'cdn-a', state: 'down', reason: 'probe', error: 'timeout' };
    expect(await stub(id).recordEvent('cdn_health', data)).toEqual({ ok: true, value: null });
    const { events } = await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(events.at(-1)).toMatchObject({ type: 'cdn_health', data });
    await admin('DELETE', `/v1/streams/${id}`);
    expect(await stub(id).recordEvent('cdn_health', data)).toEqual({ ok: false, code: 'stream_not_found', message: 'stream not found' });
  });
});
