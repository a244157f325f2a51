import { setTimeout as delay } from 'node:timers/promises';

/** Attempts per store operation, the first included (so up to 3 retries). */
export const DEFAULT_MAX_ATTEMPTS = 4;
/** Backoff ceiling before the first retry; it doubles per retry. */
export const BACKOFF_BASE_MS = 100;
/** Backoff never waits longer than this between two attempts. */
export const BACKOFF_MAX_MS = 2_000;

/** Waits `ms`, rejecting early if `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Real timer-based sleep. */
export const sleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, { signal });
};

/**
 * Delay before retry number `retry` (1 = before the second attempt): exponential with "equal
 * jitter", half fixed and half random, so delays grow steadily but concurrent uploaders that
 * failed together do not retry in lockstep. `random` is in [0, 1).
 */
export function backoffDelayMs(retry: number, random: number, baseMs = BACKOFF_BASE_MS, maxMs = BACKOFF_MAX_MS): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}

/** How `retry` behaves; everything but `isRetryable` has a default. */
export interface RetryOptions {
  isRetryable: (error: unknown) => boolean;
  maxAttempts?: number;
  sleep?: Sleep;
  random?: () => number;
  signal?: AbortSignal;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** The result of `retry`: a value, or the last error, and how many attempts were made. */
export type RetryOutcome<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: unknown; attempts: number; aborted: boolean };

/**
 * Runs `op` until it succeeds, fails with a non-retryable error, runs out of attempts or `signal`
 * aborts; never throws.
 */
export async function retry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions): Promise<RetryOutcome<T>> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const { signal } = options;
  for (let attempt = 1; ; attempt += 1) {
    if (signal?.aborted) return { ok: false, error: signal.reason, attempts: attempt - 1, aborted: true };
    try {
      return { ok: true, value: await op(attempt), attempts: attempt };
    } catch (error) {
      if (signal?.aborted) return { ok: false, error, attempts: attempt, aborted: true };
      if (attempt >= maxAttempts || !options.isRetryable(error)) {
        return { ok: false, error, attempts: attempt, aborted: false };
      }
      const delayMs = backoffDelayMs(attempt, random());
      options.onRetry?.({ attempt, delayMs, error });
      try {
        await wait(delayMs, signal);
      } catch {
        return { ok: false, error, attempts: attempt, aborted: true };
      }
    }
  }
}
