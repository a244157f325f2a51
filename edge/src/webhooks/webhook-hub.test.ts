import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { okData } from '../../../shared/src/api/management-client.ts';
import { webhookDeliveryPageSchema, webhookPayloadSchema, type CreateWebhookInput, type WebhookDeliveryPage, type WebhookPayload } from '../../../shared/src/webhooks/webhook-schemas.ts';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { adminApi, liveStream, rendition, segments, signed } from '../test-support/edge-client.ts';
import { DELIVERY_RETENTION_MS, webhookHubStub, type WebhookHub } from './webhook-hub.ts';
import { webhookEventOf } from './webhook-events.ts';

/** A receiver's request as it arrived. */
interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Fake receivers by URL (the hub's fetch runs in this isolate); any other URL answers 204. */
const receivers = new Map<string, (req: Request, init?: RequestInit) => Promise<Response> | Response>();
let received: Received[] = [];
const realFetch = globalThis.fetch;

beforeEach(() => {
  received = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    received.push({ url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() });
    const handler = receivers.get(req.url);
    return handler ? handler(req, init) : new Response(null, { status: 204 });
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  receivers.clear();
});

const hub = () => webhookHubStub(env);

/** Registers an endpoint; returns its id and secret. */
async function endpoint(url: string, events: CreateWebhookInput['events']): Promise<{ id: string; secret: string }> {
  return okData(adminApi().POST('/v1/webhooks', { body: { url, events } }));
}

async function deliveries(id: string, query: { limit?: number; cursor?: string } = {}): Promise<WebhookDeliveryPage> {
  // Parsed with the published (strict) schema: every page the tests read has its documented shape.
  return webhookDeliveryPageSchema.parse(await okData(adminApi().GET('/v1/webhooks/{id}/deliveries', { params: { path: { id }, query } })));
}

/** `POST /v1/streams/:id/end` through the typed client. */
function endStream(id: string) {
  return okData(adminApi().POST('/v1/streams/{id}/end', { params: { path: { id } } }));
}

/** Runs the hub's alarm (whatever is due is attempted) until `probe` yields a value. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await runDurableObjectAlarm(hub());
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Makes every pending delivery due now (the tests do not wait out the backoff). */
function makeDue(): Promise<void> {
  return runInDurableObject(hub(), (_hub: WebhookHub, state) => {
    state.storage.sql.exec("UPDATE deliveries SET next_attempt_at = ? WHERE status = 'pending'", Date.now() - 1);
  });
}

function verify(secret: string, r: Received): WebhookPayload {
  return webhookPayloadSchema.parse(new Webhook(secret).verify(r.body, r.headers)) as WebhookPayload;
}

describe('WebhookHub deliveries', { timeout: 20_000 }, () => {
  it('delivers a subscribed stream event signed per Standard Webhooks, retries a 500 after the backoff with the same webhook-id, and keeps both attempts', async () => {
    const url = 'https://hooks.test/retry';
    const statuses = [500, 204];
    receivers.set(url, () => new Response(null, { status: statuses.shift() ?? 204 }));
    const { id, secret } = await endpoint(url, ['stream.live', 'stream.ended']);
    const stream = await liveStream();
    const first = await until('the first attempt', async () => (await deliveries(id)).deliveries.find((d) => d.attempts.length === 1));
    expect(first).toEqual({
      messageId: expect.stringMatching(new RegExp(`^msg_${stream.id}_\\d+$`)),
      type: 'stream.live',
      eventAt: expect.any(Number),
      status: 'pending',
      createdAt: expect.any(Number),
      nextAttemptAt: expect.any(Number),
      attempts: [{ at: expect.any(Number), statusCode: 500, error: null, durationMs: expect.any(Number), nextRetryAt: first.nextAttemptAt }],
    });
    // The first retry waits WEBHOOK_RETRY_BASE_SECONDS (5 s) after the failed attempt ended.
    const a = first.attempts[0]!;
    expect(first.nextAttemptAt! - (a.at + a.durationMs)).toBe(5_000);
    const live = received.filter((r) => r.url === url);
    expect(live).toHaveLength(1);
    expect(live[0]!.headers['content-type']).toBe('application/json');
    expect(live[0]!.headers['webhook-id']).toBe(first.messageId);
    expect(verify(secret, live[0]!)).toEqual({ type: 'stream.live', timestamp: new Date(first.eventAt).toISOString(), data: { streamId: stream.id, epoch: 1 } });
    await makeDue();
    const retried = await until('the retry', async () => (await deliveries(id)).deliveries.find((d) => d.messageId === first.messageId && d.status === 'succeeded'));
    expect(retried.attempts.map((t) => [t.statusCode, t.nextRetryAt])).toEqual([
      [500, first.nextAttemptAt],
      [204, null],
    ]);
    expect(retried.nextAttemptAt).toBeNull();
    const both = received.filter((r) => r.url === url);
    expect(both.map((r) => r.headers['webhook-id'])).toEqual([first.messageId, first.messageId]);
    expect(verify(secret, both[1]!)).toEqual(JSON.parse(both[0]!.body));
    // Ending the stream is delivered too; stream.created was not subscribed.
    expect((await endStream(stream.id)).status).toBe('ended');
    const ended = await until('stream.ended', async () => (await deliveries(id)).deliveries.find((d) => d.type === 'stream.ended' && d.status === 'succeeded'));
    const endedRequest = received.find((r) => r.headers['webhook-id'] === ended.messageId)!;
    expect(verify(secret, endedRequest)).toEqual({ type: 'stream.ended', timestamp: new Date(ended.eventAt).toISOString(), data: { streamId: stream.id, epoch: 1, reason: 'ended_by_api' } });
    expect((await deliveries(id)).deliveries.map((d) => d.type)).toEqual(['stream.ended', 'stream.live']);
  });

  it('delivers a recorded broadcast’s whole life to a "*" endpoint: created, live, ended, recording.ready', async () => {
    const url = 'https://hooks.test/all';
    const { id, secret } = await endpoint(url, ['*']);
    const stream = await liveStream({ record: true });
    await signed(INTERNAL_API.renditions(stream.id), rendition(stream.epoch));
    await signed(INTERNAL_API.segments(stream.id), segments(stream.epoch, '720p', [0, 1]));
    expect((await endStream(stream.id)).status).toBe('ended');
    const page = await until('four deliveries', async () => {
      const p = await deliveries(id);
      return p.deliveries.length === 4 && p.deliveries.every((d) => d.status === 'succeeded') ? p : undefined;
    });
    expect(page.deliveries.map((d) => d.type).reverse()).toEqual(['stream.created', 'stream.live', 'stream.ended', 'recording.ready']);
    const ready = received.find((r) => r.headers['webhook-id'] === page.deliveries[0]!.messageId)!;
    const recordings = await okData(adminApi().GET('/v1/streams/{id}/recordings', { params: { path: { id: stream.id } } }));
    expect(verify(secret, ready).data).toEqual({ streamId: stream.id, recordingId: recordings.recordings[0]!.id, durationSeconds: 4, bytes: 1_000_000, expiresAt: recordings.recordings[0]!.expiresAt });
    // A "*" endpoint would take part in every later test's counts.
    expect((await adminApi().DELETE('/v1/webhooks/{id}', { params: { path: { id } } })).response.status).toBe(204);
  });

  it('records a refused connection as an attempt without a status, and retries it', async () => {
    // A real refused connection: nothing listens on port 1 of loopback (allowed in development).
    const url = 'http://127.0.0.1:1/hook';
    receivers.set(url, (req, init) => realFetch(req.url, init));
    const { id } = await endpoint(url, ['stream.created']);
    await liveStream();
    const d = await until('the attempt', async () => (await deliveries(id)).deliveries.find((x) => x.attempts.length === 1));
    expect(d.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^network error: /) });
    expect(d.status).toBe('pending');
    expect(d.nextAttemptAt).toBe(d.attempts[0]!.at + d.attempts[0]!.durationMs + 5_000);
  });

  it('gives a delivery up once its next attempt would fall past a day after it was queued', async () => {
    const url = 'https://hooks.test/down';
    receivers.set(url, () => new Response(null, { status: 503 }));
    const { id } = await endpoint(url, ['stream.created']);
    await liveStream();
    await until('the first attempt', async () => (await deliveries(id)).deliveries[0]?.attempts.length === 1 || undefined);
    // Queued a day ago less 3 s: the next wait (30 s) would end past the day.
    await runInDurableObject(hub(), (_hub: WebhookHub, state) => {
      state.storage.sql.exec('UPDATE deliveries SET created_at = ? WHERE endpoint_id = ?', Date.now() - 86_400_000 + 3_000, id);
    });
    await makeDue();
    const failed = await until('the delivery to fail', async () => (await deliveries(id)).deliveries.find((d) => d.status === 'failed'));
    expect(failed.nextAttemptAt).toBeNull();
    expect(failed.attempts.map((t) => [t.statusCode, t.nextRetryAt === null])).toEqual([
      [503, false],
      [503, true],
    ]);
  });

  it('disables an endpoint that answers 410 Gone: its delivery fails, nothing new is queued for it', async () => {
    const url = 'https://hooks.test/gone';
    receivers.set(url, () => new Response(null, { status: 410 }));
    const { id } = await endpoint(url, ['stream.live', 'stream.ended']);
    const stream = await liveStream();
    const view = await until('the endpoint to be disabled', async () => {
      const v = await okData(adminApi().GET('/v1/webhooks/{id}', { params: { path: { id } } }));
      return v.disabledAt === null ? undefined : v;
    });
    expect(view.disabledReason).toBe('the receiver answered 410 Gone');
    await endStream(stream.id);
    await until('the hand-over of stream.ended', async () => {
      // Any other endpoint would have it by now; this one never does.
      const page = await deliveries(id);
      return page.deliveries.every((d) => d.status === 'failed') && received.filter((r) => r.url === url).length >= 1 ? page : undefined;
    });
    const after = await deliveries(id);
    expect(after.deliveries.map((d) => d.type)).not.toContain('stream.ended');
    expect(received.filter((r) => r.url === url)).toHaveLength(1);
  });

  it('never holds up the stream on a slow receiver: the end answers while the attempt still hangs', async () => {
    const url = 'https://hooks.test/hang';
    let release!: () => void;
    const hanging = new Promise<void>((r) => (release = r));
    receivers.set(url, async () => {
      await hanging;
      return new Response(null, { status: 200 });
    });
    const { id } = await endpoint(url, ['stream.live', 'stream.ended']);
    const stream = await liveStream();
    await new Promise((r) => setTimeout(r, 50)); // the hand-over is in the background
    const drain = runDurableObjectAlarm(hub()); // not awaited: it waits on the receiver
    await until2('the attempt to reach the receiver', () => (received.some((r) => r.url === url) ? true : undefined));
    const started = Date.now();
    expect(await endStream(stream.id)).toMatchObject({ status: 'ended' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(received.filter((r) => r.url === url)).toHaveLength(1); // still the one hanging attempt
    release();
    await drain;
    const done = await until('both deliveries', async () => {
      const page = await deliveries(id);
      return page.deliveries.length === 2 && page.deliveries.every((d) => d.status === 'succeeded') ? page : undefined;
    });
    expect(done.deliveries.map((d) => d.type)).toEqual(['stream.ended', 'stream.live']);
  });

  it('queues a repeated hand-over of the same message once, and pages deliveries newest first', async () => {
    const { id } = await endpoint('https://hooks.test/pages', ['stream.error']);
    const events = [1, 2, 3].map((seq) => webhookEventOf('pagestream000001', { seq, ts: 1_000 * seq, type: 'error', data: { epoch: 1, reason: 'origin_silent' } })!);
    expect(await hub().accept(events)).toBe(3);
    expect(await hub().accept(events)).toBe(0);
    const first = await deliveries(id, { limit: 2 });
    expect(first.deliveries.map((d) => d.messageId)).toEqual(['msg_pagestream000001_3', 'msg_pagestream000001_2']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await deliveries(id, { limit: 2, cursor: first.nextCursor! });
    expect(second).toEqual({ deliveries: [expect.objectContaining({ messageId: 'msg_pagestream000001_1', type: 'stream.error', eventAt: 1_000 })], nextCursor: null });
  });

  it('forgets finished deliveries, their attempts and messages after the retention', async () => {
    const { id } = await endpoint('https://hooks.test/old', ['recording.ready']);
    await hub().accept([webhookEventOf('oldstream0000001', { seq: 5, ts: 5, type: 'recording_ready', data: { recordingId: 'r1' } })!]);
    await until('the delivery', async () => (await deliveries(id)).deliveries.find((d) => d.status === 'succeeded'));
    const before = await hub().rowCounts();
    await runInDurableObject(hub(), (_hub: WebhookHub, state) => {
      state.storage.sql.exec("UPDATE deliveries SET created_at = ? WHERE message_id = 'msg_oldstream0000001_5'", Date.now() - DELIVERY_RETENTION_MS - 1);
      state.storage.sql.exec("UPDATE messages SET created_at = ? WHERE id = 'msg_oldstream0000001_5'", Date.now() - DELIVERY_RETENTION_MS - 1);
      return state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(hub());
    expect((await deliveries(id)).deliveries).toEqual([]);
    const after = await hub().rowCounts();
    expect([before.messages - after.messages, before.deliveries - after.deliveries, before.attempts - after.attempts]).toEqual([1, 1, 1]);
  });

  it('stops delivering to a deleted endpoint', async () => {
    const url = 'https://hooks.test/deleted';
    receivers.set(url, () => new Response(null, { status: 500 }));
    const { id } = await endpoint(url, ['stream.created']);
    await liveStream();
    await until('the first attempt', async () => (await deliveries(id)).deliveries[0]?.attempts.length === 1 || undefined);
    expect((await adminApi().DELETE('/v1/webhooks/{id}', { params: { path: { id } } })).response.status).toBe(204);
    await makeDue();
    await runDurableObjectAlarm(hub());
    expect(received.filter((r) => r.url === url)).toHaveLength(1);
  });
});

/** Polls `probe` (no alarm) until it yields a value. */
async function until2<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
