import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deliverWebhook, isDelivered } from './deliver-webhook.ts';
import { newWebhookSecret } from './webhook-signature.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const body = '{"type":"stream.live","timestamp":"2026-11-30T02:00:00.000Z","data":{"streamId":"s1","epoch":1}}';

describe('one webhook attempt', () => {
  it('POSTs the signed body without following redirects, and reports status and Retry-After', async () => {
    const secret = newWebhookSecret();
    let seen: Request | undefined;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      seen = new Request(input, init);
      return new Response('busy', { status: 503, headers: { 'retry-after': '120' } });
    });
    const outcome = await deliverWebhook({ url: 'https://hooks.example.com/x', secret, messageId: 'msg_s1_3', body }, 15_000);
    expect(outcome).toEqual({ at: expect.any(Number), statusCode: 503, error: null, durationMs: expect.any(Number), retryAfterMs: 120_000 });
    expect(seen!.method).toBe('POST');
    expect(seen!.redirect).toBe('manual');
    expect(seen!.headers.get('user-agent')).toBe('edgelive-webhooks/1');
    expect(new Webhook(secret).verify(await seen!.text(), Object.fromEntries(seen!.headers))).toEqual(JSON.parse(body));
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      (_input, init) => new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))),
    );
    const outcome = await deliverWebhook({ url: 'https://hooks.example.com/slow', secret: newWebhookSecret(), messageId: 'msg_s1_4', body }, 100);
    expect(outcome).toMatchObject({ statusCode: null, error: 'timeout after 100 ms', retryAfterMs: 0 });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(90);
  });

  it('counts 2xx as delivered, and nothing else (3xx included)', () => {
    expect([200, 204, 299, 301, 302, 404, 410, 500, null].map(isDelivered)).toEqual([true, true, true, false, false, false, false, false, false]);
  });
});
