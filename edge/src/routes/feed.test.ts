import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { feedMessageSchema, type FeedMessage } from '../../../shared/src/feed/feed-messages.ts';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { signFeedToken } from '../../../shared/src/signing/feed-token.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { ADMIN_TOKEN, admin, BASE, createStream, json, liveStream, publish, signed } from '../test-support/edge-client.ts';

function stub(id: string) {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

/** A consumer: the client end of the feed socket and every message it received, schema-checked. */
interface Consumer {
  ws: WebSocket;
  messages: FeedMessage[];
  until(check: (messages: FeedMessage[]) => boolean): Promise<FeedMessage[]>;
}

function upgrade(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { headers: { upgrade: 'websocket', ...headers } });
}

async function connect(path: string, headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }): Promise<Consumer> {
  const res = await upgrade(path, headers);
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const messages: FeedMessage[] = [];
  ws.addEventListener('message', (ev) => messages.push(feedMessageSchema.parse(JSON.parse(ev.data as string))));
  ws.accept();
  return {
    ws,
    messages,
    async until(check) {
      const deadline = Date.now() + 5000;
      while (!check(messages)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(messages.map((m) => (m.type === 'event' ? m.event.type : m.type)))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return messages;
    },
  };
}

const eventTypes = (messages: FeedMessage[]) => messages.flatMap((m) => (m.type === 'event' ? [m.event.type] : []));

describe('analytics feed auth', () => {
  it('accepts the admin bearer token and sends a snapshot at once', async () => {
    const { id } = await createStream({ name: 'feed' });
    const consumer = await connect(`/v1/streams/${id}/events`);
    const [first] = await consumer.until((m) => m.length >= 1);
    expect(first).toEqual({
      type: 'snapshot',
      streamId: id,
      ts: expect.any(Number),
      seq: 1,
      status: 'idle',
      epoch: 0,
      viewers: { current: 0, peak: 0, total: 0, renditions: {} },
      ingest: null,
      qoe: { beacons: 0, startupMsP50: null, rebufferCount: 0, rebufferRatio: 0, switches: 0 },
      lastError: null,
    });
    consumer.ws.close(1000, 'done');
  });

  it('issues a signed feed token with expiry and accepts it as ?token=', async () => {
    const { id } = await createStream();
    const res = await admin('POST', `/v1/streams/${id}/feed-tokens`, { ttlSeconds: 600 });
    expect(res.status).toBe(201);
    const issued = await json<{ token: string; expiresAt: number; url: string }>(res);
    expect(issued.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    expect(issued.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(issued.url).toBe(`wss://edge.test/v1/streams/${id}/events?token=${issued.token}`);
    const consumer = await connect(`/v1/streams/${id}/events?token=${issued.token}`, {});
    expect((await consumer.until((m) => m.length >= 1))[0]).toMatchObject({ type: 'snapshot', streamId: id });
    const attachments = await runInDurableObject(stub(id), (_do: StreamDO, state) => state.getWebSockets().map((ws) => ws.deserializeAttachment() as { auth: string }));
    expect(attachments.map((a) => a.auth)).toEqual(['token']);
    consumer.ws.close(1000, 'done');
  });

  it('defaults feed tokens to an hour and caps the sockets one token may hold open', async () => {
    const { id } = await createStream();
    const issued = await json<{ token: string; expiresAt: number }>(await admin('POST', `/v1/streams/${id}/feed-tokens`, {}));
    expect(issued.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(issued.expiresAt).toBeGreaterThan(Date.now() + 3_590_000);
    const consumers = [];
    for (let i = 0; i < 4; i++) consumers.push(await connect(`/v1/streams/${id}/events?token=${issued.token}`, {}));
    const fifth = await upgrade(`/v1/streams/${id}/events?token=${issued.token}`, {});
    expect(fifth.status).toBe(429);
    expect(await fifth.json()).toEqual({ error: { code: 'rate_limited', message: 'this feed token already has 4 open sockets (at most 4)' } });
    // Another token minted at once is another token, with sockets of its own.
    const second = await json<{ token: string }>(await admin('POST', `/v1/streams/${id}/feed-tokens`, {}));
    const other = await connect(`/v1/streams/${id}/events?token=${second.token}`, {});
    // The admin bearer is not capped this way.
    const adminConsumer = await connect(`/v1/streams/${id}/events`);
    for (const c of [...consumers, other, adminConsumer]) c.ws.close(1000, 'done');
  });

  it.each<[string, (id: string) => Promise<Record<string, string> | string>, string]>([
    ['no credentials', async () => ({}), 'missing bearer token or feed token'],
    ['a wrong bearer token', async () => ({ authorization: 'Bearer nope' }), 'invalid bearer token'],
    ['an expired feed token', async (id) => `?token=${await signFeedToken(ADMIN_TOKEN, id, Math.floor(Date.now() / 1000) - 1)}`, 'feed token expired'],
    ['a token for another stream', async () => `?token=${await signFeedToken(ADMIN_TOKEN, 'zzzzzzzzzzzzzzzz', Math.floor(Date.now() / 1000) + 60)}`, 'feed token invalid'],
    ['a token signed with another secret', async (id) => `?token=${await signFeedToken('other', id, Math.floor(Date.now() / 1000) + 60)}`, 'feed token invalid'],
    ['a garbage token', async () => '?token=abc', 'feed token invalid'],
  ])('refuses %s with 401', async (_label, credentials, message) => {
    const { id } = await createStream();
    const c = await credentials(id);
    const res = typeof c === 'string' ? await upgrade(`/v1/streams/${id}/events${c}`) : await upgrade(`/v1/streams/${id}/events`, c);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message } });
  });

  it('does not let a feed token read the REST API', async () => {
    const { id } = await createStream();
    const { token } = await json<{ token: string }>(await admin('POST', `/v1/streams/${id}/feed-tokens`, {}));
    const res = await SELF.fetch(`${BASE}/v1/streams/${id}/events?token=${token}`);
    expect(res.status).toBe(401);
  });

  it('answers 404 for unknown streams, before and after auth', async () => {
    expect((await upgrade('/v1/streams/zzzzzzzzzzzzzzzz/events', { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(404);
    expect((await admin('POST', '/v1/streams/zzzzzzzzzzzzzzzz/feed-tokens', {})).status).toBe(404);
  });
});

describe('analytics feed messages', () => {
  it('sends each stored event at once, with seq increasing over every message', async () => {
    const { id } = await createStream();
    const a = await connect(`/v1/streams/${id}/events`);
    const b = await connect(`/v1/streams/${id}/events`);
    await a.until((m) => m.length >= 1);
    await admin('POST', `/v1/streams/${id}/key`);
    const messages = await a.until((m) => eventTypes(m).includes('key_rotated'));
    const rotated = messages.find((m) => m.type === 'event')!;
    expect(rotated).toEqual({ type: 'event', streamId: id, ts: expect.any(Number), seq: expect.any(Number), event: { seq: 2, ts: expect.any(Number), type: 'key_rotated', data: {} } });
    await b.until((m) => eventTypes(m).includes('key_rotated'));
    // Two snapshots (one per consumer) then the event: 1, 2, 3 across the stream.
    expect([...a.messages, ...b.messages].map((m) => m.seq).sort()).toEqual([1, 2, 3, 3]);
    a.ws.close(1000, 'done');
    b.ws.close(1000, 'done');
  });

  it('replays the events after ?since= to a reconnecting consumer', async () => {
    const { id } = await createStream();
    await admin('POST', `/v1/streams/${id}/key`);
    await admin('POST', `/v1/streams/${id}/key`);
    const c = await connect(`/v1/streams/${id}/events?since=1`);
    const messages = await c.until((m) => m.length >= 3);
    expect(messages.map((m) => (m.type === 'event' ? m.event.seq : 'snapshot'))).toEqual(['snapshot', 2, 3]);
    c.ws.close(1000, 'done');
  });

  it('sends a snapshot from the alarm when ingest metrics or status change, not when nothing did', async () => {
    const { id, epoch } = await liveStream();
    const c = await connect(`/v1/streams/${id}/events`);
    await c.until((m) => m.length >= 1);
    await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 2500, fps: 30, speed: 1, droppedFrames: 2 } });
    // The heartbeat armed the snapshot alarm (at most one snapshot a second).
    const due = await runInDurableObject(stub(id), (_do: StreamDO, state) => state.storage.getAlarm());
    expect(due).toBeLessThanOrEqual(Date.now() + 1000);
    await runDurableObjectAlarm(stub(id));
    const [, second] = await c.until((m) => m.length >= 2);
    expect(second).toMatchObject({ type: 'snapshot', status: 'live', ingest: { bitrateKbps: 2500, fps: 30, speed: 1, droppedFrames: 2 } });
    // Same metrics again: the alarm runs but sends nothing new.
    await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 2500, fps: 30, speed: 1, droppedFrames: 2 } });
    await runDurableObjectAlarm(stub(id));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.messages).toHaveLength(2);
    // Origin silence: the liveness alarm moves the stream to error; the event and a snapshot follow.
    await runInDurableObject(stub(id), (_do: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET last_activity_at = last_activity_at - 31000');
    });
    await runDurableObjectAlarm(stub(id));
    const after = await c.until((m) => m.length >= 4);
    expect(after.slice(2).map((m) => (m.type === 'event' ? `event:${m.event.type}` : `snapshot:${m.status}`))).toEqual(['event:error', 'snapshot:error']);
    c.ws.close(1000, 'done');
  });

  it('follows a reconnect: reconnecting event and snapshot, then reconnected and live', async () => {
    const { id, streamKey, epoch } = await liveStream();
    const c = await connect(`/v1/streams/${id}/events`);
    await c.until((m) => m.length >= 1);
    await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' });
    await c.until((m) => eventTypes(m).includes('reconnecting'));
    await runDurableObjectAlarm(stub(id));
    await c.until((m) => m.some((x) => x.type === 'snapshot' && x.status === 'reconnecting'));
    await publish(streamKey);
    const messages = await c.until((m) => eventTypes(m).includes('live'));
    expect(messages.map((m) => (m.type === 'event' ? `event:${m.event.type}` : `snapshot:${m.status}`))).toEqual([
      'snapshot:live',
      'event:reconnecting',
      'snapshot:reconnecting',
      'event:publish_accepted',
      'event:reconnected',
      'event:live',
    ]);
    expect(messages.find((m) => m.type === 'event' && m.event.type === 'reconnecting')).toMatchObject({ event: { data: { epoch, reason: 'publisher_stopped', windowSeconds: 60 } } });
    c.ws.close(1000, 'done');
  });

  it('keeps delivering to the others when one consumer goes away, and closes the feed on delete', async () => {
    const { id } = await createStream();
    const gone = await connect(`/v1/streams/${id}/events`);
    const stays = await connect(`/v1/streams/${id}/events`);
    await stays.until((m) => m.length >= 1);
    gone.ws.close(1001, 'tab closed');
    await admin('POST', `/v1/streams/${id}/key`);
    const closed = new Promise<number>((resolve) => stays.ws.addEventListener('close', (ev) => resolve(ev.code)));
    await admin('DELETE', `/v1/streams/${id}`);
    expect(eventTypes(await stays.until((m) => eventTypes(m).includes('deleted')))).toEqual(['key_rotated', 'deleted']);
    // A deleted stream's feed ends: the consumer is closed normally after the last event.
    expect(await closed).toBe(1000);
  });
});

describe('analytics feed across hibernation', () => {
  it('keeps consumers connected when the object is evicted; attachments survive; events still arrive', async () => {
    const { id } = await createStream();
    const c = await connect(`/v1/streams/${id}/events`);
    await c.until((m) => m.length >= 1);
    const before = await runInDurableObject(stub(id), (_do: StreamDO, state) => state.getWebSockets().map((ws) => ws.deserializeAttachment()));
    expect(before).toEqual([{ streamId: id, connectedAt: expect.any(Number), auth: 'admin' }]);

    await evictDurableObject(stub(id));

    // A fresh instance finds the hibernated socket and its attachment, and the seq carries on.
    const after = await runInDurableObject(stub(id), (_do: StreamDO, state) => state.getWebSockets().map((ws) => ws.deserializeAttachment()));
    expect(after).toEqual(before);
    await admin('POST', `/v1/streams/${id}/key`);
    const messages = await c.until((m) => eventTypes(m).includes('key_rotated'));
    expect(messages.map((m) => m.seq)).toEqual([1, 2]);
    c.ws.close(1000, 'done');
  });
});
