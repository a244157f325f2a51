import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_SECRET_PREFIX, newWebhookSecret, signWebhook, webhookSignatureHeaders } from './webhook-signature.ts';

describe('Standard Webhooks signatures (checked with the standardwebhooks verifier)', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(secret.slice(WEBHOOK_SECRET_PREFIX.length))).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it('signs id.timestamp.body exactly as the reference library does', async () => {
    // The example secret of the Standard Webhooks libraries' tests.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"type":"stream.live","timestamp":"2026-11-30T02:00:00.000Z","data":{"streamId":"abc"}}';
    const ours = await signWebhook(secret, 'msg_abc_3', 1_700_000_000, body);
    expect(ours).toBe(new Webhook(secret).sign('msg_abc_3', new Date(1_700_000_000_000), body));
  });

  it('produces headers Webhook.verify accepts, and that fail once the body, id or secret change', async () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: 'stream.ended', timestamp: new Date().toISOString(), data: { streamId: 's1', reason: 'ended_by_api' } });
    const headers = await webhookSignatureHeaders(secret, 'msg_s1_9', Date.now(), body);
    expect(Object.keys(headers)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    expect(headers['webhook-id']).toBe('msg_s1_9');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('s1', 's2'), { ...headers })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_s1_10' })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it('stamps the attempt time, which receivers check against replays', async () => {
    const secret = newWebhookSecret();
    const old = await webhookSignatureHeaders(secret, 'msg_s1_1', Date.now() - 10 * 60_000, '{}');
    expect(() => new Webhook(secret).verify('{}', { ...old })).toThrow('Message timestamp too old');
  });
});
