import { backoffDelayMs } from './retry-policy.ts';
import { isSegmentStoreError } from './segment-store-error.ts';
import type { PutOptions, SegmentStore } from './segment-store.ts';

/** How an upload that keeps trying ended. */
export type PersistentUploadResult =
  /** The object is durable in the store. */
  | { kind: 'stored'; attempts: number }
  /** The store refused it for good (credentials, bad key, closed): retrying cannot help. */
  | { kind: 'rejected'; attempts: number; error: unknown }
  /** The caller gave it up (the stream was fenced, or its queue overflowed). */
  | { kind: 'cancelled'; attempts: number };

/** Backoff of the outer loop: the store's own retries run inside each attempt. */
export interface PersistentUploadOptions {
  signal: AbortSignal;
  /** First wait between two failed puts; doubles up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Told of every failed put that will be tried again. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  random?: () => number;
}

/**
 * Puts an object until it is stored: a storage outage (network, 5xx, timeouts) is waited out for as
 * long as the caller keeps `signal` unaborted, so a segment made during an outage is uploaded when
 * storage returns instead of being dropped. Only a refusal (`store_rejected`, `invalid_key`,
 * `store_closed`) ends it early.
 */
export async function uploadUntilStored(store: SegmentStore, key: string, body: Uint8Array, put: PutOptions, opts: PersistentUploadOptions): Promise<PersistentUploadResult> {
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal.aborted) return { kind: 'cancelled', attempts: attempt - 1 };
    try {
      await store.put(key, body, put);
      return { kind: 'stored', attempts: attempt };
    } catch (error) {
      if (opts.signal.aborted) return { kind: 'cancelled', attempts: attempt };
      if (isSegmentStoreError(error) && error.code !== 'store_unavailable') return { kind: 'rejected', attempts: attempt, error };
      const delayMs = backoffDelayMs(attempt, random(), opts.retryBaseMs, opts.retryMaxMs);
      opts.onRetry?.(attempt, delayMs, error);
      const aborted = await sleepUnlessAborted(delayMs, opts.signal);
      if (aborted) return { kind: 'cancelled', attempts: attempt };
    }
  }
}

/** Waits `ms`; resolves true early when `signal` aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
