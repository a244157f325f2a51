import type { SegmentStoreErrorCode } from './segment-store-error.ts';

/** Error names S3-compatible services use for "slow down" (AWS, R2, MinIO). */
const THROTTLING_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

/** Timeouts from the SDK's HTTP handler and from S3 itself. */
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/** Node socket errors worth another try: the connection broke or was never made. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The HTTP status an SDK error carries, if any. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as ErrorShape).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function nameOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const { name } = error as ErrorShape;
  return typeof name === 'string' ? name : '';
}

function networkCodeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const { code } = error as ErrorShape;
  return typeof code === 'string' ? code : '';
}

/** True for 5xx, throttling, timeouts and broken connections: worth retrying with backoff. */
export function isRetryableS3Error(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  const name = nameOf(error);
  if (THROTTLING_NAMES.has(name) || TIMEOUT_NAMES.has(name)) return true;
  return NETWORK_CODES.has(networkCodeOf(error));
}

/** True when the error says the object does not exist (but not when the bucket does not). */
export function isMissingObject(error: unknown): boolean {
  const name = nameOf(error);
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  return httpStatusOf(error) === 404 && name !== 'NoSuchBucket';
}

/** The store error code for a failure we are giving up on. */
export function storeErrorCodeFor(error: unknown): SegmentStoreErrorCode {
  if (isRetryableS3Error(error)) return 'store_unavailable';
  const status = httpStatusOf(error);
  if (status !== undefined && status >= 400 && status < 500) return 'store_rejected';
  // No HTTP answer at all (DNS failure, TLS error, unknown socket error): the store is unreachable.
  return 'store_unavailable';
}

/** A short description of an SDK or network error for messages and logs. */
export function describeS3Error(error: unknown): string {
  const status = httpStatusOf(error);
  const label = nameOf(error) || networkCodeOf(error) || 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return `${label}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
}
