import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { formatStreamKey } from '../../../shared/src/keys/stream-key.ts';
import { DEFAULT_LADDER } from '../../../shared/src/ladder/default-ladder.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { admin, createStream, H264_AAC, json, liveStream, publish, rendition, segments, signed } from '../test-support/edge-client.ts';

async function status(id: string): Promise<Record<string, unknown>> {
  return json(await admin('GET', `/v1/streams/${id}`));
}

async function eventTypes(id: string): Promise<string[]> {
  const body = await json<{ events: { type: string }[] }>(await admin('GET', `/v1/streams/${id}/events`));
  return body.events.map((e) => e.type);
}

describe('internal API signing', () => {
  const body = { streamKey: 'x', nodeId: 'n', source: H264_AAC };

  it.each([
    ['missing headers', { omit: true }, 'signature missing'],
    // Offsets from the clock when the test runs (not when the table is built); a second may tick between the two clocks.
    ['a stale timestamp', { offsetSeconds: -120 }, /^signature stale: request clock is 12[01] s behind the edge's, allowed ±60 s — check NTP on the origin$/],
    ['a timestamp from the future', { offsetSeconds: 75 }, /^signature stale: request clock is 7[45] s ahead of the edge's, allowed ±60 s — check NTP on the origin$/],
    ['a bad signature', { signature: 'ab'.repeat(32) }, 'signature mismatch'],
    ['the wrong secret', { secret: 'other-secret' }, 'signature mismatch'],
  ])('refuses %s with 401', async (_label, tamper, message) => {
    const { offsetSeconds, ...rest } = tamper as typeof tamper & { offsetSeconds?: number };
    const res = await signed(INTERNAL_API.publish, body, offsetSeconds === undefined ? rest : { timestamp: Math.floor(Date.now() / 1000) + offsetSeconds });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: typeof message === 'string' ? message : expect.stringMatching(message) } });
  });

  it('signs the query string too', async () => {
    const { id, epoch } = await liveStream();
    const path = `${INTERNAL_API.heartbeat(id)}?probe=1`;
    const res = await signed(path, { epoch, metrics: { bitrateKbps: 1, fps: 1, speed: 1, droppedFrames: 0 } });
    expect(res.status).toBe(200);
  });

  it('validates a signed body and names the field', async () => {
    const res = await signed(INTERNAL_API.publish, { streamKey: 'x', nodeId: 'n', source: { ...H264_AAC, fps: -1 } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message: 'source.fps: Too small: expected number to be >=0' } });
  });
});

describe('POST /internal/v1/publish', () => {
  it('grants epoch 1 with the ladder and goes idle → live', async () => {
    const { id, streamKey } = await createStream({ segmentSeconds: 4 });
    const res = await publish(streamKey);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ streamId: id, epoch: 1, ladder: DEFAULT_LADDER, segmentSeconds: 4, firstMsn: 0, partSeconds: 0.333 });
    expect(await status(id)).toMatchObject({ status: 'live', epoch: 1, startedAt: expect.any(Number), ingest: { nodeId: 'node-a', source: H264_AAC } });
    expect(await eventTypes(id)).toEqual(['created', 'publish_accepted', 'live']);
  });

  it.each([
    ['a malformed key', 'not-a-key'],
    ['an unknown stream', formatStreamKey('zzzzzzzzzzzzzzzz', 'A'.repeat(32))],
  ])('refuses %s with 403 stream_key_invalid', async (_label, key) => {
    const res = await publish(key);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: 'stream_key_invalid', message: 'stream key is not valid' } });
  });

  it('refuses a wrong secret for a real stream and logs it', async () => {
    const { id } = await createStream();
    const res = await publish(formatStreamKey(id, 'B'.repeat(32)));
    expect(res.status).toBe(403);
    expect(await eventTypes(id)).toEqual(['created', 'publish_refused']);
    expect(await status(id)).toMatchObject({ status: 'idle', epoch: 0 });
  });

  it('refuses unsupported codecs with 422 naming what was received and what is accepted', async () => {
    const { id, streamKey } = await createStream();
    const res = await publish(streamKey, { ...H264_AAC, videoCodec: 'hevc', audioCodec: 'opus' });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: { code: 'unsupported_codec', message: 'received video "hevc" with audio "opus"; accepted: video "h264" with audio "aac"' },
    });
    const events = await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(events.events[1]).toMatchObject({ type: 'publish_refused', data: { reason: 'unsupported_codec', code: 'unsupported_codec' } });
  });

  it('refuses a second publisher while the first is fresh with 409 conflict', async () => {
    const { id, streamKey } = await liveStream();
    const res = await publish(streamKey, H264_AAC, 'node-b');
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: { code: 'conflict', message: `stream ${id} is already publishing from node node-a` } });
  });

  it('lets a new publisher take over once the first went silent, with a new epoch', async () => {
    const { id, streamKey } = await liveStream();
    await runInDurableObject(env.STREAM_DO.get(env.STREAM_DO.idFromName(id)), (_do: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET last_activity_at = last_activity_at - 60000');
    });
    const res = await publish(streamKey, H264_AAC, 'node-b');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ epoch: 2 });
    expect(await eventTypes(id)).toEqual(['created', 'publish_accepted', 'live', 'error', 'publish_accepted', 'reconnected', 'live']);
  });

  it('lets a cluster takeover of the current epoch replace a fresh publisher; the old owner is fenced off', async () => {
    const { id, streamKey, epoch } = await liveStream();
    const stale = await signed(INTERNAL_API.publish, { streamKey, nodeId: 'node-b', source: H264_AAC, takeover: { previousEpoch: epoch + 5 } });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toEqual({ error: { code: 'conflict', message: `stream ${id} is already publishing from node node-a` } });
    const res = await signed(INTERNAL_API.publish, { streamKey, nodeId: 'node-b', source: H264_AAC, takeover: { previousEpoch: epoch } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ epoch: epoch + 1 });
    const events = await json<{ events: { type: string; data: Record<string, unknown> }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(events.events.find((e) => e.type === 'error')?.data).toMatchObject({ reason: 'origin_taken_over', message: `taken over by node node-b from epoch ${epoch}` });
    // The old owner's announces now get 409 stale_epoch; a second taker with the same view loses.
    const old = await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 1, fps: 1, speed: 1, droppedFrames: 0 } });
    expect(old.status).toBe(409);
    expect(await old.json()).toEqual({ error: { code: 'stale_epoch', message: `epoch ${epoch} is not the current epoch ${epoch + 1}` } });
    const again = await signed(INTERNAL_API.publish, { streamKey, nodeId: 'node-c', source: H264_AAC, takeover: { previousEpoch: epoch } });
    expect(again.status).toBe(409);
  });

  it('refuses an ended stream with 403 stream_ended', async () => {
    const { id, streamKey, epoch } = await liveStream({ reconnectWindowSeconds: 0 });
    expect((await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' })).status).toBe(200);
    const res = await publish(streamKey);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: 'stream_ended', message: `stream ${id} has ended; create a new stream to broadcast again` } });
  });
});

describe('announces', () => {
  it('stores renditions and segments and reports them in the view', async () => {
    const { id, epoch } = await liveStream();
    expect(await json(await signed(INTERNAL_API.renditions(id), rendition(epoch)))).toEqual({ status: 'live', epoch: 1 });
    const res = await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0, 1], 1_000_000));
    expect(await json(res)).toEqual({ status: 'live', epoch: 1, stored: 2, skipped: 0 });
    // A retried announce is accepted without counting twice.
    expect(await json(await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [1], 1_000_000)))).toEqual({ status: 'live', epoch: 1, stored: 0, skipped: 1 });
    const metrics = { bitrateKbps: 6100, fps: 30, speed: 1.01, droppedFrames: 2 };
    expect((await signed(INTERNAL_API.heartbeat(id), { epoch, metrics })).status).toBe(200);
    const view = await status(id);
    expect(view.renditions).toEqual([
      // 1 MB per 2 s = 4 Mbit/s measured, above the declared 2.928 Mbit/s.
      { name: '720p', width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, bandwidth: 4_000_000, averageBandwidth: 4_000_000, segments: 2 },
    ]);
    expect(view.ingest).toEqual({ nodeId: 'node-a', lastHeartbeatAt: expect.any(Number), metrics, source: H264_AAC });
  });

  it('refuses segments of a rendition not announced in this epoch', async () => {
    const { id, epoch } = await liveStream();
    const res = await signed(INTERNAL_API.segments(id), segments(epoch, '480p', [0]));
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: { code: 'conflict', message: 'rendition 480p has no init segment announced in epoch 1' } });
  });

  it('refuses a stale epoch with 409 stale_epoch', async () => {
    const { id, epoch } = await liveStream();
    for (const path of [INTERNAL_API.renditions(id), INTERNAL_API.heartbeat(id), INTERNAL_API.end(id)]) {
      const body = path.endsWith('renditions')
        ? rendition(epoch + 1)
        : path.endsWith('heartbeat')
          ? { epoch: epoch + 1, metrics: { bitrateKbps: 0, fps: 0, speed: 0, droppedFrames: 0 } }
          : { epoch: epoch + 1, reason: 'publisher_stopped' };
      const res = await signed(path, body);
      expect(res.status, path).toBe(409);
      expect(await res.json()).toEqual({ error: { code: 'stale_epoch', message: 'epoch 2 is not the current epoch 1' } });
    }
  });

  it('refuses announces after the end with 409 invalid_transition, and answers a repeated end', async () => {
    const { id, epoch } = await liveStream({ reconnectWindowSeconds: 0 });
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    expect(await json(await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' }))).toEqual({ status: 'ended', epoch: 1 });
    for (const [path, body] of [
      [INTERNAL_API.segments(id), segments(epoch, '720p', [0])],
      [INTERNAL_API.renditions(id), rendition(epoch)],
      [INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 0, fps: 0, speed: 0, droppedFrames: 0 } }],
    ] as const) {
      const res = await signed(path, body);
      expect(res.status, path).toBe(409);
      expect(await res.json()).toEqual({ error: { code: 'invalid_transition', message: `stream ${id} is ended: announces are refused` } });
    }
    expect(await json(await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' }))).toEqual({ status: 'ended', epoch: 1 });
    expect(await status(id)).toMatchObject({ status: 'ended', endedAt: expect.any(Number) });
  });

  it('refuses announces for an idle stream and for unknown streams', async () => {
    const { id } = await createStream();
    const idle = await signed(INTERNAL_API.heartbeat(id), { epoch: 0 + 1, metrics: { bitrateKbps: 0, fps: 0, speed: 0, droppedFrames: 0 } });
    expect(idle.status).toBe(409);
    expect(await idle.json()).toEqual({ error: { code: 'stale_epoch', message: 'epoch 1 is not the current epoch 0' } });
    const unknown = await signed(INTERNAL_API.end('zzzzzzzzzzzzzzzz'), { epoch: 1, reason: 'publisher_stopped' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'stream_not_found', message: 'stream not found' } });
  });

  it('moves live → error (resumable), not ended, when the origin node shuts down under the stream', async () => {
    const { id, epoch } = await liveStream();
    const end = await signed(INTERNAL_API.end(id), { epoch, reason: 'node_shutdown' });
    expect(await json(end)).toEqual({ status: 'error', epoch: 1 });
    expect(await status(id)).toMatchObject({ status: 'error', lastError: { reason: 'node_shutdown', message: 'the origin node shut down' } });
  });

  it('moves live → error on transcoder_failed, and error → live on the next publish with a discontinuity', async () => {
    const { id, streamKey, epoch } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0, 1]));
    const end = await signed(INTERNAL_API.end(id), { epoch, reason: 'transcoder_failed', message: 'ffmpeg exited with 1' });
    expect(await json(end)).toEqual({ status: 'error', epoch: 1 });
    expect(await status(id)).toMatchObject({ status: 'error', lastError: { reason: 'transcoder_failed', message: 'ffmpeg exited with 1', at: expect.any(Number) } });

    const grant = await json(await publish(streamKey));
    expect(grant).toMatchObject({ epoch: 2, firstMsn: 2 });
    await signed(INTERNAL_API.renditions(id), rendition(2));
    await signed(INTERNAL_API.segments(id), segments(2, '720p', [2, 3]));
    const stored = await runInDurableObject(env.STREAM_DO.get(env.STREAM_DO.idFromName(id)), (_do: StreamDO, state) =>
      state.storage.sql.exec('SELECT msn, epoch, init_file, discontinuity FROM segments ORDER BY msn').toArray(),
    );
    expect(stored).toEqual([
      { msn: 0, epoch: 1, init_file: 'init-1.mp4', discontinuity: 0 },
      { msn: 1, epoch: 1, init_file: 'init-1.mp4', discontinuity: 0 },
      { msn: 2, epoch: 2, init_file: 'init-2.mp4', discontinuity: 1 },
      { msn: 3, epoch: 2, init_file: 'init-2.mp4', discontinuity: 0 },
    ]);
    expect(await eventTypes(id)).toEqual(['created', 'publish_accepted', 'live', 'error', 'publish_accepted', 'reconnected', 'live']);
  });
});

describe('POST /internal/v1/key-check', () => {
  it('answers the stream for the right key and refuses wrong ones, logging them once a minute with a count', async () => {
    const { id, streamKey } = await liveStream();
    expect(await json(await signed(INTERNAL_API.keyCheck, { streamKey, nodeId: 'node-a' }))).toEqual({ streamId: id });
    const wrong = formatStreamKey(id, 'W'.repeat(32));
    for (let i = 0; i < 20; i++) {
      const res = await signed(INTERNAL_API.keyCheck, { streamKey: wrong, nodeId: 'node-b' });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('stream_key_invalid');
    }
    const refusals = (await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events?limit=1000`))).events.filter((e) => e.type === 'publish_refused');
    expect(refusals.map((e) => e.data)).toEqual([{ reason: 'key_mismatch', code: 'stream_key_invalid', nodeId: 'node-b', count: 1 }]);
    // The live publish is untouched: same status and epoch.
    expect(await status(id)).toMatchObject({ status: 'live', epoch: 1 });
    // Unsigned, the endpoint answers nothing.
    const { SELF } = await import('cloudflare:test');
    expect((await SELF.fetch(`https://edge.test${INTERNAL_API.keyCheck}`, { method: 'POST', body: JSON.stringify({ streamKey: wrong, nodeId: 'x' }) })).status).toBe(401);
  });
});
