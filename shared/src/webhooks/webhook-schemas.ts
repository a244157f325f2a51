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

/** An endpoint as the API shows it (the secret only once, at creation). */
export interface WebhookEndpointView {
  id: string;
  url: string;
  events: (WebhookEventType | typeof ALL_WEBHOOK_EVENTS)[];
  /** ms since epoch. */
  createdAt: number;
  /** Set when the receiver answered 410 Gone: nothing more is sent to it. */
  disabledAt: number | null;
  disabledReason: string | null;
}

/** `POST /v1/webhooks` answer: the endpoint and its signing secret (`whsec_` + base64), shown this once. */
export interface CreatedWebhookView extends WebhookEndpointView {
  secret: string;
}

/** One try at delivering a message to an endpoint. */
export interface WebhookAttemptView {
  /** When it started, ms since epoch. */
  at: number;
  /** The receiver's status, or null when none came (network error, timeout). */
  statusCode: number | null;
  /** Why it failed without a status (`timeout after 15000 ms`, a network error), else null. */
  error: string | null;
  durationMs: number;
  /** When the next attempt is due after this one failed, or null (it succeeded, or it was the last). */
  nextRetryAt: number | null;
}

/** One message to one endpoint, with every attempt so far. */
export interface WebhookDeliveryView {
  /** The `webhook-id` header: the same on every attempt. */
  messageId: string;
  type: WebhookEventType;
  /** When the event happened (the payload's `timestamp`), ms since epoch. */
  eventAt: number;
  status: 'pending' | 'succeeded' | 'failed';
  createdAt: number;
  nextAttemptAt: number | null;
  attempts: WebhookAttemptView[];
}

/** A page of deliveries, newest first. */
export interface WebhookDeliveryPage {
  deliveries: WebhookDeliveryView[];
  nextCursor: string | null;
}

/** The JSON body of every delivery (Standard Webhooks payload). */
export interface WebhookPayload {
  type: WebhookEventType;
  /** ISO 8601 time of the event (not of the attempt). */
  timestamp: string;
  data: { streamId: string } & Record<string, unknown>;
}
