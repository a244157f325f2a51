import { DurableObject } from 'cloudflare:workers';
import {
  MAX_WEBHOOK_ENDPOINTS,
  type CreateWebhookInput,
  type CreatedWebhookView,
  type WebhookDeliveryPage,
  type WebhookDeliveryView,
  type WebhookEndpointView,
  type WebhookEventType,
} from '../../../shared/src/webhooks/webhook-schemas.ts';
import type { Env } from '../env.ts';
import { MAX_CONNECTIONS, inBatches } from '../http/in-batches.ts';
import { fail, ok, type DoResult } from '../stream-do/do-result.ts';
import { deliverWebhook, isDelivered } from './deliver-webhook.ts';
import { nextAttemptAt } from './retry-schedule.ts';
import { subscribesTo, type WebhookEvent } from './webhook-events.ts';
import { parseWebhookSettings, type WebhookSettings } from './webhook-settings.ts';
import { newWebhookSecret } from './webhook-signature.ts';
import { WebhookStore, type AttemptRow, type DeliveryRow, type DueDelivery, type EndpointRow } from './webhook-store.ts';

/** Name of the single WebhookHub instance (`idFromName`). */
export const WEBHOOK_HUB_NAME = 'global';
/** Deliveries one alarm attempts at most (in batches of the Workers connection limit); the rest next alarm, at once. */
export const ATTEMPTS_PER_ALARM = 36;
/** How long finished deliveries and their attempts stay visible. */
export const DELIVERY_RETENTION_MS = 7 * 86_400_000;
/** Finished deliveries kept at most, whatever their age. */
export const MAX_KEPT_DELIVERIES = 50_000;
/** While anything is kept, the alarm comes back at least this often to prune it. */
const PRUNE_INTERVAL_MS = 3_600_000;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ENDPOINT_ID_RE = /^wh_[a-z0-9]{16}$/;

/** A new endpoint id: `wh_` and 16 random base-36 characters. */
export function newEndpointId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `wh_${[...bytes].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;
}

/** Whether `id` has the shape of an endpoint id (anything else is 404 without a Durable Object call). */
export function isEndpointId(id: string): boolean {
  return ENDPOINT_ID_RE.test(id);
}

/** The WebhookHub (one for the account). */
export function webhookHubStub(env: Env): DurableObjectStub<WebhookHub> {
  return env.WEBHOOK_HUB.get(env.WEBHOOK_HUB.idFromName(WEBHOOK_HUB_NAME));
}

function endpointView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEndpointView['events'],
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
  };
}

function deliveryView(row: DeliveryRow, attempts: readonly AttemptRow[]): WebhookDeliveryView {
  return {
    messageId: row.message_id,
    type: row.type as WebhookEventType,
    eventAt: row.event_at,
    status: row.status,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    attempts: attempts.map((a) => ({ at: a.at, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms, nextRetryAt: a.next_retry_at })),
  };
}

/**
 * The webhook delivery engine: endpoints, the messages StreamDOs hand over, and one delivery per
 * message and subscribed endpoint, attempted from the alarm (at once, then with backoff for a day)
 * and each attempt kept. Nothing a stream does waits for a receiver: `accept` only queues.
 */
export class WebhookHub extends DurableObject<Env> {
  readonly #store: WebhookStore;
  readonly #settings: WebhookSettings;
  /** The drain in progress: a second alarm while one runs leaves the re-arm to the first. */
  #draining: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new WebhookStore(ctx.storage.sql);
    this.#settings = parseWebhookSettings(env);
    void ctx.blockConcurrencyWhile(async () => this.#store.migrate());
  }

  /** Registers an endpoint with a fresh signing secret, shown only in this answer. */
  createEndpoint(input: CreateWebhookInput): DoResult<CreatedWebhookView> {
    if (this.#store.endpoints().length >= MAX_WEBHOOK_ENDPOINTS) return fail('conflict', `at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first`);
    const row = { id: newEndpointId(), url: input.url, events: input.events, secret: newWebhookSecret(), createdAt: Date.now() };
    this.#store.insertEndpoint(row);
    return ok({ ...endpointView(this.#store.endpoint(row.id)!), secret: row.secret });
  }

  /** Every endpoint, oldest first, without secrets. */
  listEndpoints(): WebhookEndpointView[] {
    return this.#store.endpoints().map(endpointView);
  }

  /** One endpoint, without its secret. */
  endpoint(id: string): DoResult<WebhookEndpointView> {
    const row = this.#store.endpoint(id);
    return row ? ok(endpointView(row)) : fail('not_found', `webhook ${id} not found`);
  }

  /** Deletes an endpoint: nothing more is sent to it, its delivery records go with it. */
  deleteEndpoint(id: string): DoResult<null> {
    const deleted = this.ctx.storage.transactionSync(() => this.#store.deleteEndpoint(id));
    return deleted ? ok(null) : fail('not_found', `webhook ${id} not found`);
  }

  /** An endpoint's deliveries with their attempts, newest first; `cursor` is the previous page's `nextCursor`. */
  deliveries(id: string, limit: number, cursor?: string): DoResult<WebhookDeliveryPage> {
    if (!this.#store.endpoint(id)) return fail('not_found', `webhook ${id} not found`);
    const rows = this.#store.deliveries(id, limit + 1, cursor === undefined ? undefined : Number(cursor));
    const page = rows.slice(0, limit);
    const attempts = page.length ? this.#store.attempts(page.at(-1)!.seq, page[0]!.seq) : [];
    const bySeq = new Map<number, AttemptRow[]>();
    for (const a of attempts) bySeq.set(a.delivery_seq, [...(bySeq.get(a.delivery_seq) ?? []), a]);
    return ok({
      deliveries: page.map((d) => deliveryView(d, bySeq.get(d.seq) ?? [])),
      nextCursor: rows.length > limit ? String(page.at(-1)!.seq) : null,
    });
  }

  /**
   * Events a StreamDO hands over: each is queued once per subscribed, enabled endpoint (a repeated
   * hand-over of the same message queues nothing new) and attempted at once from the alarm.
   * Returns how many deliveries were queued.
   */
  async accept(events: readonly WebhookEvent[]): Promise<number> {
    const now = Date.now();
    const endpoints = this.#store.endpoints().filter((e) => e.disabled_at === null);
    const queued = this.ctx.storage.transactionSync(() => {
      let n = 0;
      for (const event of events) {
        const targets = endpoints.filter((e) => subscribesTo(JSON.parse(e.events) as string[], event.type));
        if (targets.length === 0) continue;
        this.#store.insertMessage({ id: event.messageId, type: event.type, eventAt: event.ts, body: event.body, createdAt: now });
        for (const e of targets) if (this.#store.insertDelivery(e.id, event.messageId, now)) n++;
      }
      return n;
    });
    if (queued > 0) await this.#armBy(now);
    return queued;
  }

  /** Attempts what is due, prunes old records, and re-arms for the next due attempt. */
  override async alarm(): Promise<void> {
    if (this.#draining) return;
    this.#draining = this.#drain().finally(() => (this.#draining = null));
    await this.#draining;
  }

  /** Rows kept, for retention tests and operators. */
  rowCounts(): { messages: number; deliveries: number; attempts: number } {
    return this.#store.rowCounts();
  }

  async #drain(): Promise<void> {
    const due = this.#store.dueDeliveries(Date.now(), ATTEMPTS_PER_ALARM);
    await inBatches(due, MAX_CONNECTIONS, (d) => this.#attempt(d));
    const now = Date.now();
    this.#store.prune(now - DELIVERY_RETENTION_MS, MAX_KEPT_DELIVERIES);
    const next = this.#store.nextDueAt();
    const counts = this.#store.rowCounts();
    const prune = counts.deliveries + counts.messages > 0 ? now + PRUNE_INTERVAL_MS : null;
    const at = next === null ? prune : Math.min(next, prune ?? next);
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  /** One attempt of one delivery; what follows it (done, retry time, failed, endpoint disabled) is written with it. */
  async #attempt(d: DueDelivery): Promise<void> {
    const outcome = await deliverWebhook({ url: d.url, secret: d.secret, messageId: d.message_id, body: d.body }, this.#settings.timeoutMs);
    const n = d.attempts + 1;
    const end = outcome.at + outcome.durationMs;
    const record = { at: outcome.at, statusCode: outcome.statusCode, error: outcome.error, durationMs: outcome.durationMs };
    this.ctx.storage.transactionSync(() => {
      // The endpoint may have been deleted while the attempt was in flight: then there is nothing to record.
      if (!this.#store.endpoint(d.endpoint_id)) return;
      if (isDelivered(outcome.statusCode)) {
        this.#store.recordAttempt(d.seq, n, { ...record, status: 'succeeded', nextAttemptAt: null });
      } else if (outcome.statusCode === 410) {
        // Standard Webhooks: 410 Gone means the receiver wants no more; stop sending to it.
        this.#store.recordAttempt(d.seq, n, { ...record, status: 'failed', nextAttemptAt: null });
        this.#store.disableEndpoint(d.endpoint_id, end, 'the receiver answered 410 Gone');
      } else {
        const next = nextAttemptAt(n, d.created_at, end, this.#settings.retryBaseSeconds, outcome.retryAfterMs);
        this.#store.recordAttempt(d.seq, n, { ...record, status: next === null ? 'failed' : 'pending', nextAttemptAt: next });
      }
    });
  }

  /** Makes sure the alarm fires by `at`. */
  async #armBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
