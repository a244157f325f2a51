import { EdgeliveError, type ErrorCode } from '../../../shared/src/errors.ts';

/**
 * What a Durable Object RPC method answers. Errors travel as values because RPC keeps only an
 * error's message, not custom fields like `code`.
 */
export type DoResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

/** A successful result. */
export function ok<T>(value: T): DoResult<T> {
  return { ok: true, value };
}

/** A refused result. */
export function fail<T = never>(code: ErrorCode, message: string): DoResult<T> {
  return { ok: false, code, message };
}

/** The value of a result, or its error thrown as an EdgeliveError for `app.onError`. */
export function unwrap<T>(result: DoResult<T>): T {
  if (!result.ok) throw new EdgeliveError(result.code, result.message);
  return result.value;
}
