import { reset, SELF } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { isStreamId, parseStreamKey } from '../../../shared/src/keys/stream-key.ts';
import { DEFAULT_LADDER } from '../../../shared/src/ladder/default-ladder.ts';
import { admin, BASE, createStream, json, liveStream, publish } from '../test-support/edge-client.ts';

describe('management API auth', () => {
  it.each([
    ['no header', undefined, 'missing bearer token'],
    ['wrong token', 'Bearer nope', 'invalid bearer token'],
    ['not bearer', 'Basic dGVzdC1hZG1pbg==', 'missing bearer token'],
  ])('refuses %s with 401 unauthorized', async (_label, authorization, message) => {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const res = await SELF.fetch(`${BASE}/v1/streams`, { headers });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message } });
  });
});

describe('POST /v1/streams', () => {
  it('creates an idle stream with defaults and a key whose secret is not stored', async () => {
    const res = await admin('POST', '/v1/streams', { name: 'Launch' });
    expect(res.status).toBe(201);
    const body = await json(res);
    const id = body.id as string;
    expect(isStreamId(id)).toBe(true);
    expect(parseStreamKey(body.streamKey as string)?.streamId).toBe(id);
    expect(body).toEqual({
      id,
      name: 'Launch',
      streamKey: body.streamKey,
      ingestUrl: 'rtmp://127.0.0.1:1935/live',
      publishUrl: `rtmp://127.0.0.1:1935/live/${body.streamKey as string}`,
      playback: { hls: `https://edge.test/live/${id}/master.m3u8`, dash: `https://edge.test/live/${id}/manifest.mpd` },
      status: 'idle',
      createdAt: expect.any(Number),
      ladder: DEFAULT_LADDER,
      lowLatency: true,
      partSeconds: 0.333,
      dvrWindowSeconds: 0,
      segmentSeconds: 2,
      reconnectWindowSeconds: 60,
      record: false,
      playbackPolicy: 'public',
    });
  });

  it('accepts an empty body and a custom ladder', async () => {
    expect((await admin('POST', '/v1/streams')).status).toBe(201);
    const ladder = { rungs: [{ name: '480p', height: 480, videoKbps: 1200 }], audioKbps: 96 };
    const body = await json(await admin('POST', '/v1/streams', { ladder, lowLatency: true, dvrWindowSeconds: 600, segmentSeconds: 4 }));
    expect(body).toMatchObject({ name: null, ladder, lowLatency: true, dvrWindowSeconds: 600, segmentSeconds: 4 });
  });

  it.each([
    [{ name: '' }, 'name: Too small: expected string to have >=1 characters'],
    [{ dvrWindowSeconds: -1 }, 'dvrWindowSeconds: Too small: expected number to be >=0'],
    [{ ladder: { rungs: [{ name: '720p', height: 100, videoKbps: 1000 }] } }, 'ladder.rungs.0.height: Too small: expected number to be >=144'],
    [{ colour: 'red' }, 'body: Unrecognized key: "colour"'],
  ])('refuses %j with 400 bad_request naming the field', async (input, message) => {
    const res = await admin('POST', '/v1/streams', input);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message } });
  });

  it('refuses a body that is not JSON', async () => {
    const res = await SELF.fetch(`${BASE}/v1/streams`, { method: 'POST', headers: { authorization: 'Bearer test-admin' }, body: '{oops' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message: 'body: not valid JSON' } });
  });
});

describe('GET /v1/streams', () => {
  beforeEach(async () => {
    await reset();
  });

  it('lists newest first, filters by status and pages with a cursor', async () => {
    const a = await createStream({ name: 'a' });
    const b = await createStream({ name: 'b' });
    const c = await liveStream({ name: 'c' });

    const all = await json<{ streams: { id: string; name: string; status: string }[]; nextCursor: string | null }>(await admin('GET', '/v1/streams'));
    expect(all.streams.map((s) => [s.name, s.status])).toEqual([
      ['c', 'live'],
      ['b', 'idle'],
      ['a', 'idle'],
    ]);
    expect(all.nextCursor).toBeNull();
    expect(all.streams[0]).toEqual({ id: c.id, name: 'c', status: 'live', createdAt: expect.any(Number), updatedAt: expect.any(Number) });

    const live = await json<{ streams: { id: string }[] }>(await admin('GET', '/v1/streams?status=live'));
    expect(live.streams.map((s) => s.id)).toEqual([c.id]);

    const page1 = await json<{ streams: { id: string }[]; nextCursor: string }>(await admin('GET', '/v1/streams?limit=2'));
    expect(page1.streams.map((s) => s.id)).toEqual([c.id, b.id]);
    const page2 = await json<{ streams: { id: string }[]; nextCursor: string | null }>(
      await admin('GET', `/v1/streams?limit=2&cursor=${page1.nextCursor}`),
    );
    expect(page2).toEqual({ streams: [expect.objectContaining({ id: a.id })], nextCursor: null });
  });

  it('drops deleted streams from the listing', async () => {
    const a = await createStream({ name: 'a' });
    await createStream({ name: 'b' });
    expect((await admin('DELETE', `/v1/streams/${a.id}`)).status).toBe(204);
    const all = await json<{ streams: { name: string }[] }>(await admin('GET', '/v1/streams'));
    expect(all.streams.map((s) => s.name)).toEqual(['b']);
  });

  it.each([
    ['status=paused', 'status: Invalid option: expected one of "idle"|"live"|"reconnecting"|"ended"|"error"'],
    ['limit=0', 'limit: Too small: expected number to be >=1'],
    ['cursor=zzz', 'cursor: not a cursor from a previous page'],
  ])('refuses ?%s with 400 naming the field', async (query, message) => {
    const res = await admin('GET', `/v1/streams?${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message } });
  });
});

describe('GET /v1/streams/:id', () => {
  it("returns the StreamDO's view", async () => {
    const { id } = await createStream({ name: 'view' });
    const res = await admin('GET', `/v1/streams/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id,
      name: 'view',
      status: 'idle',
      createdAt: expect.any(Number),
      startedAt: null,
      endedAt: null,
      ladder: DEFAULT_LADDER,
      lowLatency: true,
      partSeconds: 0.333,
      dvrWindowSeconds: 0,
      segmentSeconds: 2,
      renditions: [],
      ingest: { nodeId: null, lastHeartbeatAt: null, metrics: null, source: null },
      viewers: { current: 0, peak: 0, total: 0, renditions: {} },
      qoe: { beacons: 0, startupMsP50: null, rebufferCount: 0, rebufferRatio: 0, switches: 0 },
      epoch: 0,
      lastError: null,
      reconnectWindowSeconds: 60,
      reconnectDeadline: null,
      playbackPolicy: 'public',
      storage: { segmentRows: 0, eventRows: 1, bytes: 0, purgedObjects: 0 },
      record: false,
      recordingRetentionSeconds: 604800,
      ingestUrl: 'rtmp://127.0.0.1:1935/live',
      playback: { hls: `https://edge.test/live/${id}/master.m3u8`, dash: `https://edge.test/live/${id}/manifest.mpd` },
    });
  });

  it.each(['abcdefghijklmnop', 'not-an-id'])('answers 404 stream_not_found for unknown id %s', async (id) => {
    for (const [method, path] of [
      ['GET', `/v1/streams/${id}`],
      ['DELETE', `/v1/streams/${id}`],
      ['POST', `/v1/streams/${id}/key`],
      ['GET', `/v1/streams/${id}/events`],
    ] as const) {
      const res = await admin(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'stream_not_found', message: 'stream not found' } });
    }
  });
});

describe('DELETE /v1/streams/:id', () => {
  it('tombstones the stream: 404 afterwards, and its key fails at once', async () => {
    const { id, streamKey } = await createStream();
    expect((await admin('DELETE', `/v1/streams/${id}`)).status).toBe(204);
    expect((await admin('GET', `/v1/streams/${id}`)).status).toBe(404);
    expect((await admin('DELETE', `/v1/streams/${id}`)).status).toBe(404);
    const res = await publish(streamKey);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: 'stream_key_invalid', message: 'stream key is not valid' } });
  });
});

describe('POST /v1/streams/:id/key', () => {
  it('rotates the key: the new one publishes, the old one is refused', async () => {
    const { id, streamKey: oldKey } = await createStream();
    const res = await admin('POST', `/v1/streams/${id}/key`);
    expect(res.status).toBe(200);
    const body = await json<{ streamKey: string; publishUrl: string }>(res);
    expect(body).toEqual({ streamKey: expect.stringMatching(new RegExp(`^${id}_[A-Za-z0-9]{32}$`)), publishUrl: `rtmp://127.0.0.1:1935/live/${body.streamKey}` });
    expect(body.streamKey).not.toBe(oldKey);
    expect((await publish(oldKey)).status).toBe(403);
    expect((await publish(body.streamKey)).status).toBe(200);
  });
});

describe('GET /v1/streams/:id/events', () => {
  it('pages through the event log with since and limit', async () => {
    const { id, streamKey } = await createStream({ name: 'ev' });
    await admin('POST', `/v1/streams/${id}/key`);
    expect((await publish(streamKey)).status).toBe(403);
    const all = await json<{ events: { seq: number; ts: number; type: string; data: unknown }[]; nextSince: number }>(
      await admin('GET', `/v1/streams/${id}/events`),
    );
    expect(all.events.map((e) => [e.seq, e.type, e.data])).toEqual([
      [1, 'created', { name: 'ev', reconnectWindowSeconds: 60 }],
      [2, 'key_rotated', {}],
      [3, 'publish_refused', { reason: 'key_mismatch', nodeId: 'node-a', source: expect.any(Object), code: 'stream_key_invalid', count: 1 }],
    ]);
    expect(all.nextSince).toBe(3);
    expect(await json(await admin('GET', `/v1/streams/${id}/events?since=1&limit=1`))).toEqual({
      events: [{ seq: 2, ts: expect.any(Number), type: 'key_rotated', data: {} }],
      nextSince: 2,
      hasMore: true,
    });
    expect(await json(await admin('GET', `/v1/streams/${id}/events?since=3`))).toEqual({ events: [], nextSince: 3, hasMore: false });
    const bad = await admin('GET', `/v1/streams/${id}/events?limit=5000`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: 'bad_request', message: 'limit: Too big: expected number to be <=1000' } });
  });
});
