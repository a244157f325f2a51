import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createdWebhookViewSchema, webhookDeliveryPageSchema, webhookEndpointViewSchema, webhookListSchema } from '../../../shared/src/webhooks/webhook-schemas.ts';
import { BASE, admin, json } from '../test-support/edge-client.ts';

type Created = { id: string; secret: string; url: string; events: string[]; createdAt: number; disabledAt: number | null; disabledReason: string | null };

async function create(body: unknown): Promise<Response> {
  return admin('POST', '/v1/webhooks', body);
}

describe('webhook endpoints API', () => {
  it('refuses every route without the admin bearer token', async () => {
    for (const [method, path] of [['GET', '/v1/webhooks'], ['POST', '/v1/webhooks'], ['GET', '/v1/webhooks/wh_0123456789abcdef/deliveries'], ['DELETE', '/v1/webhooks/wh_0123456789abcdef']] as const) {
      const res = await SELF.fetch(`${BASE}${path}`, { method });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'missing bearer token' } });
    }
  });

  it('registers an endpoint: 201 with a whsec_ secret shown once, then lists and shows it without the secret', async () => {
    const res = await create({ url: 'https://hooks.example.com/edgelive', events: ['stream.live', 'stream.ended'] });
    expect(res.status).toBe(201);
    const created = await json<Created>(res);
    expect(created).toEqual({
      id: expect.stringMatching(/^wh_[a-z0-9]{16}$/),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      url: 'https://hooks.example.com/edgelive',
      events: ['stream.live', 'stream.ended'],
      createdAt: expect.any(Number),
      disabledAt: null,
      disabledReason: null,
    });
    // Every answer has the shape its published schema describes.
    expect(createdWebhookViewSchema.parse(created)).toEqual(created);
    const { secret: _secret, ...view } = created;
    const one = await json(await admin('GET', `/v1/webhooks/${created.id}`));
    expect(one).toEqual(view);
    expect(webhookEndpointViewSchema.strict().parse(one)).toEqual(view);
    const list = await json<{ webhooks: Record<string, unknown>[] }>(await admin('GET', '/v1/webhooks'));
    expect(webhookListSchema.parse(list)).toEqual(list);
    expect(list.webhooks).toContainEqual(view);
    expect(list.webhooks.every((w) => !('secret' in w))).toBe(true);
    const page = await json(await admin('GET', `/v1/webhooks/${created.id}/deliveries`));
    expect(webhookDeliveryPageSchema.parse(page)).toEqual({ deliveries: [], nextCursor: null });
  });

  it('accepts "*" alone for every event type, and plain http to loopback in development', async () => {
    const res = await create({ url: 'http://127.0.0.1:9/hook', events: ['*'] });
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ url: 'http://127.0.0.1:9/hook', events: ['*'] });
  });

  it.each([
    [{ url: 'https://hooks.example.com/x', events: [] }, 'events: Too small: expected array to have >=1 items'],
    [{ url: 'https://hooks.example.com/x', events: ['stream.deleted'] }, 'events.0: Invalid option: expected one of "stream.created"|"stream.live"|"stream.reconnecting"|"stream.ended"|"stream.error"|"recording.ready"|"*"'],
    [{ url: 'https://hooks.example.com/x', events: ['*', 'stream.live'] }, 'events: "*" stands alone'],
    [{ url: 'https://hooks.example.com/x', events: ['stream.live', 'stream.live'] }, 'events: event types must be unique'],
    [{ url: 'ftp://hooks.example.com/x', events: ['stream.live'] }, 'url: Invalid URL'],
    [{ url: 'https://hooks.example.com/x', events: ['stream.live'], secret: 'mine' }, 'body: Unrecognized key: "secret"'],
    [{ url: 'http://hooks.example.com/x', events: ['stream.live'] }, 'url: must be https (plain http only to loopback in local development)'],
    [{ url: 'https://169.254.169.254/latest', events: ['stream.live'] }, 'url: 169.254.169.254 is not a public host'],
  ])('refuses %o with 400', async (body, message) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message } });
  });

  it('deletes an endpoint: 204, then 404 everywhere', async () => {
    const { id } = await json<Created>(await create({ url: 'https://hooks.example.com/gone', events: ['stream.ended'] }));
    expect((await admin('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    for (const [method, path] of [['GET', `/v1/webhooks/${id}`], ['DELETE', `/v1/webhooks/${id}`], ['GET', `/v1/webhooks/${id}/deliveries`]] as const) {
      const res = await admin(method, path);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: `webhook ${id} not found` } });
    }
    expect((await json<{ webhooks: { id: string }[] }>(await admin('GET', '/v1/webhooks'))).webhooks.map((w) => w.id)).not.toContain(id);
  });

  it('answers 404 for an id that is not one, and 400 for a bad page query', async () => {
    expect(await json(await admin('GET', '/v1/webhooks/nope'))).toEqual({ error: { code: 'not_found', message: 'webhook nope not found' } });
    const { id } = await json<Created>(await create({ url: 'https://hooks.example.com/p', events: ['*'] }));
    expect(await json(await admin('GET', `/v1/webhooks/${id}/deliveries?limit=0`))).toEqual({ error: { code: 'bad_request', message: 'limit: Too small: expected number to be >=1' } });
    expect(await json(await admin('GET', `/v1/webhooks/${id}/deliveries?cursor=abc`))).toEqual({ error: { code: 'bad_request', message: 'cursor: not one this API gave' } });
  });

  // Last in the file: it fills the account's endpoints.
  it('refuses a 51st endpoint with 409 conflict', async () => {
    const { webhooks } = await json<{ webhooks: unknown[] }>(await admin('GET', '/v1/webhooks'));
    for (let i = webhooks.length; i < 50; i++) expect((await create({ url: `https://hooks.example.com/${i}`, events: ['stream.live'] })).status).toBe(201);
    const res = await create({ url: 'https://hooks.example.com/one-too-many', events: ['stream.live'] });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: { code: 'conflict', message: 'at most 50 webhook endpoints; delete one first' } });
  });
});
