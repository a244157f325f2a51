/**
 * What went wrong talking to the store:
 * - `store_unavailable`: 5xx, throttling or network failure that outlasted our retries;
 * - `store_rejected`: the store refused the request (credentials, missing bucket, bad request);
 * - `store_closed`: the store was closed before or during the call;
 * - `invalid_key`: the key or prefix is not one we write (empty, leading `/`, too long).
 */
export type SegmentStoreErrorCode = 'store_unavailable' | 'store_rejected' | 'store_closed' | 'invalid_key';

/** An error from a SegmentStore, with a code and the underlying `cause`. */
export class SegmentStoreError extends Error {
  readonly code: SegmentStoreErrorCode;
  /** The key or prefix the call was about. */
  readonly key: string | undefined;
  /** How many requests were sent before giving up (0 when none was sent). */
  readonly attempts: number;

  constructor(
    code: SegmentStoreErrorCode,
    message: string,
    options: { cause?: unknown; key?: string; attempts?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'SegmentStoreError';
    this.code = code;
    this.key = options.key;
    this.attempts = options.attempts ?? 0;
  }
}

/** True when `error` is a SegmentStoreError with the given code. */
export function isSegmentStoreError(error: unknown, code?: SegmentStoreErrorCode): error is SegmentStoreError {
  return error instanceof SegmentStoreError && (code === undefined || error.code === code);
}
