/** When a failed webhook delivery is tried again: exponential backoff, capped, for a day. Pure. */

/** How long after its first attempt a message is still retried; past it the delivery is `failed`. */
export const RETRY_WINDOW_MS = 24 * 3_600_000;
/** The longest wait between two attempts. */
export const MAX_RETRY_DELAY_MS = 3_600_000;
/** Each wait is this many times the previous one (5 s, 30 s, 3 min, 18 min, then hourly with the default base). */
export const RETRY_FACTOR = 6;

/** The wait before retry number `retry` (1 = the first retry): base × 6^(retry − 1), at most an hour. */
export function retryDelayMs(retry: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 1000 * RETRY_FACTOR ** Math.max(0, retry - 1), MAX_RETRY_DELAY_MS);
}

/**
 * When the attempt after `failedAttempts` failed ones is due, or null when it would fall past a day
 * after `firstAttemptAt` (the delivery is given up). A receiver's `Retry-After` lengthens the wait,
 * never beyond the cap.
 */
export function nextAttemptAt(failedAttempts: number, firstAttemptAt: number, now: number, baseSeconds: number, retryAfterMs = 0): number | null {
  const wait = Math.max(retryDelayMs(failedAttempts, baseSeconds), Math.min(retryAfterMs, MAX_RETRY_DELAY_MS));
  const at = now + wait;
  return at - firstAttemptAt > RETRY_WINDOW_MS ? null : at;
}

/** A `Retry-After` header (delay-seconds or an HTTP date, RFC 9110 §10.2.3) in ms from `now`; 0 when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number {
  if (header === null) return 0;
  const text = header.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? 0 : Math.max(0, at - now);
}
