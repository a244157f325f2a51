/** The webhooks part of the management API: event types, request bodies and the JSON it answers. */
import * as z from 'zod';

/** Every event type a webhook endpoint may subscribe to (Standard Webhooks `type`). */
export const WEBHOOK_EVENT_TYPES = ['stream.created', 'stream.live', 'stream.reconnecting', 'stream.ended', 'stream.error', 'recording.ready'] as const;

/** One webhook event type. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Subscribes an endpoint to every event type, present and future. */
export const ALL_WEBHOOK_EVENTS = '*';

/** Endpoints one account may register (each message fans out to all of them). */
export const MAX_WEBHOOK_ENDPOINTS = 50;

/** Body of `POST /v1/webhooks`. Which URLs are allowed is decided after parsing (`webhookUrlRefusal`: it depends on the environment). */
export const createWebhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).max(2000),
    /** A non-empty set of event types, or `["*"]` for all of them. */
    events: z
      .array(z.enum([...WEBHOOK_EVENT_TYPES, ALL_WEBHOOK_EVENTS]))
      .min(1)
      .max(WEBHOOK_EVENT_TYPES.length)
      .refine((e) => new Set(e).size === e.length, { message: 'event types must be unique' })
      .refine((e) => !e.includes(ALL_WEBHOOK_EVENTS) || e.length === 1, { message: '"*" stands alone' }),
  })
  .strict();
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;

/** Query of `GET /v1/webhooks/:id/deliveries`: newest first, `cursor` from the previous page. */
export const listDeliveriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().regex(/^\d{1,15}$/, 'not one this API gave').optional(),
});

const webhookEventSelector = z.enum([...WEBHOOK_EVENT_TYPES, ALL_WEBHOOK_EVENTS]);

// The answer schemas are strict and named (`meta({ id })`): the OpenAPI document says
// `additionalProperties: false` and lists each once under components.

/** An endpoint as the API shows it (the secret only once, at creation). */
export const webhookEndpointViewSchema = z
  .strictObject({
    id: z.string().regex(/^wh_[a-z0-9]{16}$/),
    url: z.string(),
    events: z.array(webhookEventSelector),
    /** ms since epoch. */
    createdAt: z.number().int(),
    /** Set when the receiver answered 410 Gone: nothing more is sent to it. */
    disabledAt: z.number().int().nullable(),
    disabledReason: z.string().nullable(),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpointView = z.infer<typeof webhookEndpointViewSchema>;

/** `POST /v1/webhooks` answer: the endpoint and its signing secret (`whsec_` + base64), shown this once. */
export const createdWebhookViewSchema = webhookEndpointViewSchema.extend({ secret: z.string().regex(/^whsec_[A-Za-z0-9+/]+=*$/) }).meta({ id: 'CreatedWebhook' });
export type CreatedWebhookView = z.infer<typeof createdWebhookViewSchema>;

/** `GET /v1/webhooks` answer. */
export const webhookListSchema = z.strictObject({ webhooks: z.array(webhookEndpointViewSchema) }).meta({ id: 'WebhookList' });

/** One try at delivering a message to an endpoint. */
export const webhookAttemptViewSchema = z
  .strictObject({
    /** When it started, ms since epoch. */
    at: z.number().int(),
    /** The receiver's status, or null when none came (network error, timeout). */
    statusCode: z.number().int().nullable(),
    /** Why it failed without a status (`timeout after 15000 ms`, `network error: …`), else null. */
    error: z.string().nullable(),
    durationMs: z.number().int().min(0),
    /** When the next attempt is due after this one failed, or null (it succeeded, or it was the last). */
    nextRetryAt: z.number().int().nullable(),
  })
  .meta({ id: 'WebhookAttempt' });
export type WebhookAttemptView = z.infer<typeof webhookAttemptViewSchema>;

/** One message to one endpoint, with every attempt so far. */
export const webhookDeliveryViewSchema = z
  .strictObject({
    /** The `webhook-id` header: the same on every attempt. */
    messageId: z.string(),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    /** When the event happened (the payload's `timestamp`), ms since epoch. */
    eventAt: z.number().int(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    createdAt: z.number().int(),
    nextAttemptAt: z.number().int().nullable(),
    attempts: z.array(webhookAttemptViewSchema),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryViewSchema>;

/** A page of deliveries, newest first (`GET /v1/webhooks/:id/deliveries`). */
export const webhookDeliveryPageSchema = z
  .strictObject({
    deliveries: z.array(webhookDeliveryViewSchema),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'WebhookDeliveryPage' });
export type WebhookDeliveryPage = z.infer<typeof webhookDeliveryPageSchema>;

/** The JSON body of every delivery (Standard Webhooks payload). */
export const webhookPayloadSchema = z.object({
  type: z.enum(WEBHOOK_EVENT_TYPES),
  /** ISO 8601 time of the event (not of the attempt). */
  timestamp: z.iso.datetime(),
  data: z.looseObject({ streamId: z.string() }),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
