import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { admin, json, liveStream, publish, rendition, segments, signed, viewer } from '../test-support/edge-client.ts';
import type { StreamDO } from './stream-do.ts';

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

/** Moves the last error (the start of the grace window) `ms` into the past. */
function backdateError(id: string, ms: number): Promise<void> {
  return sql(id, `UPDATE stream SET last_error = json_set(last_error, '$.at', json_extract(last_error, '$.at') - ${ms})`);
}

describe('resume grace window (RESUME_GRACE_SECONDS, 30 s by default)', () => {
  it('resumes within the window: error → live, new epoch, same playback URL, a discontinuity in the playlist', async () => {
    const { id, streamKey, hls } = await failedStream();
    await backdateError(id, 29_000);
    const grant = await json(await publish(streamKey, undefined, 'node-b'));
    expect(grant).toMatchObject({ streamId: id, epoch: 2, firstMsn: 2 });
    const view = await json(await admin('GET', `/v1/streams/${id}`));
    expect(view).toMatchObject({ status: 'live', epoch: 2, playback: { hls } });
    const log = await events(id);
    expect(log.map((e) => e.type)).toEqual(['created', 'publish_accepted', 'live', 'error', 'publish_accepted', 'reconnected', 'live']);
    expect(log[5]?.data).toEqual({ epoch: 2, afterMs: expect.any(Number) });
    expect(log[5]!.data.afterMs as number).toBeGreaterThanOrEqual(29_000);

    await signed(INTERNAL_API.renditions(id), rendition(2));
    await signed(INTERNAL_API.segments(id), segments(2, '720p', [2]));
    const playlist = await (await viewer(`/live/${id}/720p/index.m3u8?after=resume`)).text();
    expect(playlist).toContain('seg-1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-2.mp4"\n');
    expect(playlist).not.toContain('#EXT-X-ENDLIST');
  });

  it('ends an error stream by alarm once the window has passed (grace_expired); the key is then refused', async () => {
    const { id, streamKey } = await failedStream();
    await backdateError(id, 30_000);
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'ended', endedAt: expect.any(Number) });
    const log = await events(id);
    expect(log.at(-1)).toMatchObject({ type: 'ended', data: { epoch: 1, reason: 'grace_expired' } });
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
    await backdateError(id, 31_000);
    const res = await publish(streamKey);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('stream_ended');
    expect((await events(id)).slice(-2).map((e) => [e.type, e.data.reason])).toEqual([
      ['ended', 'grace_expired'],
      ['publish_refused', 'stream_ended'],
    ]);
  });
});

describe('refused transitions', () => {
  it('refuses an end after the end with 409 and logs transition_refused', async () => {
    const { id, epoch } = await liveStream();
    await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' });
    const again = await signed(INTERNAL_API.end(id), { epoch, reason: 'transcoder_failed' });
    expect(again.status).toBe(409);
    expect((await events(id)).at(-1)).toMatchObject({
      type: 'transition_refused',
      data: { from: 'ended', event: 'end', message: `stream ${id} is ended, not live: announces are refused` },
    });
    expect(await json(await admin('GET', `/v1/streams/${id}`))).toMatchObject({ status: 'ended', lastError: null });
  });

  it('does not log refused heartbeats as transitions', async () => {
    const { id, epoch } = await liveStream();
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
    expect((await events(id)).map((e) => e.seq)).toEqual([3, 4]);
  });
});
