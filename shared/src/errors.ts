/** Every error code edgelive puts on the wire; the JSON shape is `{"error":{"code","message"}}`. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  stream_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  invalid_transition: 409,
  stale_epoch: 409,
  stream_gone: 410,
  request_timeout: 408,
  payload_too_large: 413,
  range_not_satisfiable: 416,
  rate_limited: 429,
  stream_key_invalid: 403,
  stream_ended: 403,
  unsupported_codec: 422,
  stream_not_ready: 503,
  over_capacity: 503,
  upstream_failed: 502,
  internal: 500,
} as const;

/** A machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error that carries a code, mapped to a status and JSON body at the boundary. */
export class EdgeliveError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EdgeliveError';
    this.code = code;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The public JSON body. */
  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The JSON error body of every 4xx/5xx answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** True when `value` has the shape of an error body (for clients reading responses). */
export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const inner = (value as { error: unknown }).error;
  return typeof inner === 'object' && inner !== null && 'code' in inner && 'message' in inner;
}
