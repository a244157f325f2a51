import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { okData } from '../../shared/src/api/management-client.ts';
import { webhookDeliveryPageSchema, webhookPayloadSchema, type WebhookPayload } from '../../shared/src/webhooks/webhook-schemas.ts';
import { adminApi, createStream, waitFor } from '../support/e2e-helpers.ts';
import { publishTestPattern, type FfmpegProcess } from '../support/ffmpeg-cli.ts';

/**
 * Webhooks on the real stack: a node:http receiver on loopback registered through the API, ffmpeg
 * publishing over RTMP through the origin to the edge in workerd. The receiver verifies every
 * delivery with the standardwebhooks library, answers 500 to the first one and gets its retry
 * (same webhook-id) after the backoff, which WEBHOOK_RETRY_BASE_SECONDS makes 1 s here.
 */

/** One request the receiver got, and what it answered. */
interface Delivery {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

let stack: LocalStack;
let receiver: Server;
let publisher: FfmpegProcess | undefined;
const deliveries: Delivery[] = [];
let receiverUrl = '';

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The first delivery of all fails once; everything after succeeds.
      const answered = deliveries.length === 0 ? 500 : 204;
      deliveries.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/edgelive-hooks`;
  stack = await startLocalStack({
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
    edgeVars: { WEBHOOK_RETRY_BASE_SECONDS: '1' },
  });
});

afterAll(async () => {
  publisher?.child.kill('SIGKILL');
  await stack?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

describe('webhooks from a real broadcast', () => {
  let webhook: { id: string; secret: string };
  let streamId: string;

  it('registers a loopback receiver through the management API', async () => {
    const res = await adminApi(stack).POST('/v1/webhooks', { body: { url: receiverUrl, events: ['stream.live', 'stream.ended'] } });
    expect(res.response.status).toBe(201);
    webhook = res.data!;
    expect(webhook.secret).toMatch(/^whsec_/);
  });

  it('delivers stream.live, signed, and retries it with the same webhook-id after answering 500 once', async () => {
    const stream = await createStream(stack, { name: 'webhooks-e2e', reconnectWindowSeconds: 0, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 300 }], audioKbps: 64 } });
    streamId = stream.id;
    publisher = publishTestPattern(`${stack.rtmpUrl}/${stream.streamKey}`, { width: 320, height: 240, fps: 15, seconds: 12, videoKbps: 250 });
    const [first, retry] = await waitFor('stream.live and its retry', 60_000, () => (deliveries.length >= 2 ? deliveries.slice(0, 2) : undefined));
    const wh = new Webhook(webhook.secret);
    const payloads = [first!, retry!].map((d) => webhookPayloadSchema.parse(wh.verify(d.body, d.headers as Record<string, string>)) as WebhookPayload);
    expect(payloads[0]).toEqual({ type: 'stream.live', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), data: { streamId, epoch: 1 } });
    expect(payloads[1]).toEqual(payloads[0]);
    expect([first!.answered, retry!.answered]).toEqual([500, 204]);
    expect(retry!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    const eventAt = Date.parse(payloads[0]!.timestamp);
    console.log(`stream.live: first delivery ${first!.at - eventAt} ms after the event, retry ${retry!.at - first!.at} ms after the 500`);
    // The retry waits the 1 s base (and the hub's alarm may fire a little later on a busy machine).
    expect(retry!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(retry!.at - first!.at).toBeLessThan(30_000);
  });

  it('delivers stream.ended once the publisher stops (reconnect window 0)', async () => {
    const ended = await waitFor('stream.ended', 60_000, () => deliveries.find((d) => (JSON.parse(d.body) as WebhookPayload).type === 'stream.ended'));
    const payload = new Webhook(webhook.secret).verify(ended.body, ended.headers as Record<string, string>) as WebhookPayload;
    expect(payload.data).toEqual({ streamId, epoch: 1, reason: 'publisher_stopped' });
    expect(ended.answered).toBe(204);
    console.log(`stream.ended: delivered ${ended.at - Date.parse(payload.timestamp)} ms after the event`);
  });

  it('shows every attempt in GET /v1/webhooks/:id/deliveries', async () => {
    // Parsed with the published (strict) schema too: the typed client types the answer, the schema checks it.
    const page = webhookDeliveryPageSchema.parse(await okData(adminApi(stack).GET('/v1/webhooks/{id}/deliveries', { params: { path: { id: webhook.id } } })));
    expect(page.nextCursor).toBeNull();
    expect(page.deliveries.map((d) => [d.type, d.status, d.attempts.map((a) => a.statusCode)])).toEqual([
      ['stream.ended', 'succeeded', [204]],
      ['stream.live', 'succeeded', [500, 204]],
    ]);
    const live = page.deliveries[1]!;
    expect(live.messageId).toBe(deliveries[0]!.headers['webhook-id']);
    expect(live.attempts[0]!.nextRetryAt).toBe(live.attempts[0]!.at + live.attempts[0]!.durationMs + 1_000);
    expect(live.attempts[1]!.at).toBeGreaterThanOrEqual(live.attempts[0]!.nextRetryAt!);
  });
});
