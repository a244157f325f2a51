/** The documented operations under `/v1/webhooks`: register, list, read and delete endpoints, and read their deliveries. */
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { createdWebhookViewSchema, createWebhookSchema, listDeliveriesQuerySchema, webhookDeliveryPageSchema, webhookEndpointViewSchema, webhookListSchema } from '../webhooks/webhook-schemas.ts';
import { errorAnswers, json, webhookIdParams } from './operation-parts.ts';

/** Webhook endpoints (Standard Webhooks deliveries of stream events); request schemas are the ones `edge/src/routes/webhooks.ts` parses with. */
export const webhookOperations: RouteConfig[] = [
  {
    method: 'post',
    path: '/v1/webhooks',
    operationId: 'createWebhook',
    summary: 'Register a webhook endpoint; its signing secret is shown only in this answer',
    description: '`url`: https to a public host (plain http only to loopback in local development); a refused URL is 400. At most 50 endpoints (409).',
    request: { body: { required: true, content: json(createWebhookSchema) } },
    responses: { 201: { description: 'The endpoint with its `whsec_` signing secret.', content: json(createdWebhookViewSchema) }, ...errorAnswers(400, 401, 409) },
  },
  {
    method: 'get',
    path: '/v1/webhooks',
    operationId: 'listWebhooks',
    summary: 'Webhook endpoints, oldest first, without their secrets',
    responses: { 200: { description: 'The endpoints.', content: json(webhookListSchema) }, ...errorAnswers(401) },
  },
  {
    method: 'get',
    path: '/v1/webhooks/{id}',
    operationId: 'getWebhook',
    summary: 'One webhook endpoint, without its secret',
    request: { params: webhookIdParams },
    responses: { 200: { description: 'The endpoint.', content: json(webhookEndpointViewSchema) }, ...errorAnswers(401, 404) },
  },
  {
    method: 'delete',
    path: '/v1/webhooks/{id}',
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook endpoint; nothing more is sent to it and its delivery records go with it',
    request: { params: webhookIdParams },
    responses: { 204: { description: 'Deleted.' }, ...errorAnswers(401, 404) },
  },
  {
    method: 'get',
    path: '/v1/webhooks/{id}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'Deliveries to an endpoint, newest first, each with every attempt so far',
    request: { params: webhookIdParams, query: listDeliveriesQuerySchema },
    responses: { 200: { description: 'A page; pass `nextCursor` as `cursor` for the next one.', content: json(webhookDeliveryPageSchema) }, ...errorAnswers(400, 401, 404) },
  },
];
