/** One delivery attempt: a signed POST to the receiver, bounded by a timeout, never following redirects. */
import { retryAfterMs } from './retry-schedule.ts';
import { webhookSignatureHeaders } from './webhook-signature.ts';

/** What one attempt is about. */
export interface AttemptTarget {
  url: string;
  secret: string;
  messageId: string;
  body: string;
}

/** What one attempt found. */
export interface AttemptOutcome {
  /** When it started, ms since epoch. */
  at: number;
  /** The receiver's status, or null when none came. */
  statusCode: number | null;
  /** Why no status came (timeout, network error), else null. */
  error: string | null;
  durationMs: number;
  /** The receiver's `Retry-After`, in ms (0 when none). */
  retryAfterMs: number;
}

/** Whether a status counts as delivered (Standard Webhooks: 2xx only; a 3xx is a failure, not followed). */
export function isDelivered(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode <= 299;
}

/** POSTs the message, signed for this attempt's time, and reports what came back; never throws. */
export async function deliverWebhook(target: AttemptTarget, timeoutMs: number): Promise<AttemptOutcome> {
  const at = Date.now();
  const headers = await webhookSignatureHeaders(target.secret, target.messageId, at, target.body);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'edgelive-webhooks/1', ...headers },
      body: target.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Only the status matters; the receiver's body is not read.
    await res.body?.cancel();
    const end = Date.now();
    return { at, statusCode: res.status, error: null, durationMs: end - at, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), end) };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const error = timedOut ? `timeout after ${timeoutMs} ms` : `network error: ${err instanceof Error ? err.message : String(err)}`;
    return { at, statusCode: null, error: error.slice(0, 300), durationMs: Date.now() - at, retryAfterMs: 0 };
  }
}
