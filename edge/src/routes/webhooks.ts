import { Hono } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { createWebhookSchema, listDeliveriesQuerySchema } from '../../../shared/src/webhooks/webhook-schemas.ts';
import type { AppEnv } from '../app-env.ts';
import { readJsonBody } from '../http/parse-json-body.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { isEndpointId, webhookHubStub } from '../webhooks/webhook-hub.ts';
import { webhookUrlRefusal } from '../webhooks/webhook-url.ts';

/** A well-formed endpoint id from the path; anything else is 404 before the hub is called. */
function endpointId(id: string): string {
  if (!isEndpointId(id)) throw new EdgeliveError('not_found', `webhook ${id} not found`);
  return id;
}

/** Webhook endpoints and their deliveries under `/v1/webhooks` (bearer ADMIN_TOKEN). */
export const webhookRoutes = new Hono<AppEnv>();

webhookRoutes.use('*', adminAuth);

webhookRoutes.post('/', async (c) => {
  const input = createWebhookSchema.parse(await readJsonBody(c.req.raw));
  const refusal = webhookUrlRefusal(input.url, c.var.settings.environment);
  if (refusal) throw new EdgeliveError('bad_request', refusal);
  return c.json(unwrap(await webhookHubStub(c.env).createEndpoint(input)), 201);
});

webhookRoutes.get('/', async (c) => c.json({ webhooks: await webhookHubStub(c.env).listEndpoints() }));

webhookRoutes.get('/:id', async (c) => c.json(unwrap(await webhookHubStub(c.env).endpoint(endpointId(c.req.param('id'))))));

webhookRoutes.delete('/:id', async (c) => {
  unwrap(await webhookHubStub(c.env).deleteEndpoint(endpointId(c.req.param('id'))));
  return c.body(null, 204);
});

webhookRoutes.get('/:id/deliveries', async (c) => {
  const id = endpointId(c.req.param('id'));
  const query = listDeliveriesQuerySchema.parse(c.req.query());
  return c.json(unwrap(await webhookHubStub(c.env).deliveries(id, query.limit, query.cursor)));
});
