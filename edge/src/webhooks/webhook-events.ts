/** Which stream log events become webhooks, and the message each becomes. Pure. */
import { ALL_WEBHOOK_EVENTS, type WebhookEventType, type WebhookPayload } from '../../../shared/src/webhooks/webhook-schemas.ts';

/**
 * Stream log event type → webhook event type. `resumed` (error → live in the same epoch, the edge
 * had lost the origin) is the stream going live again, like `live` after a (re)publish.
 */
export const WEBHOOK_TYPE_OF_LOG_EVENT: Readonly<Record<string, WebhookEventType>> = {
  created: 'stream.created',
  live: 'stream.live',
  resumed: 'stream.live',
  reconnecting: 'stream.reconnecting',
  ended: 'stream.ended',
  error: 'stream.error',
  recording_ready: 'recording.ready',
};

/** A stream log entry (StreamStore `events` row, `data` parsed). */
export interface LogEvent {
  seq: number;
  ts: number;
  type: string;
  data: Record<string, unknown>;
}

/** One event handed to the WebhookHub: what every endpoint subscribed to its type gets. */
export interface WebhookEvent {
  /** `webhook-id`: the stream and its log sequence number, so a repeated hand-over is the same message. */
  messageId: string;
  type: WebhookEventType;
  /** When it happened, ms since epoch. */
  ts: number;
  /** The exact JSON body every attempt sends and signs. */
  body: string;
}

/** The message id of a stream's log entry (no `.`, as the signature scheme requires of ids). */
export function webhookMessageId(streamId: string, seq: number): string {
  return `msg_${streamId}_${seq}`;
}

/** The webhook a log entry becomes, or null when its type is not delivered. */
export function webhookEventOf(streamId: string, e: LogEvent): WebhookEvent | null {
  const type = WEBHOOK_TYPE_OF_LOG_EVENT[e.type];
  if (type === undefined) return null;
  const data = e.type === 'resumed' ? { streamId, ...e.data, resumed: true } : { streamId, ...e.data };
  const payload: WebhookPayload = { type, timestamp: new Date(e.ts).toISOString(), data };
  return { messageId: webhookMessageId(streamId, e.seq), type, ts: e.ts, body: JSON.stringify(payload) };
}

/** Whether an endpoint subscribed to `events` gets messages of `type`. */
export function subscribesTo(events: readonly string[], type: WebhookEventType): boolean {
  return events.includes(ALL_WEBHOOK_EVENTS) || events.includes(type);
}
