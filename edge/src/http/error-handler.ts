import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import * as z from 'zod';
import { EdgeliveError, type ErrorBody, type ErrorCode } from '../../../shared/src/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { zodErrorMessage } from './zod-error-message.ts';

function errorResponse(c: Context<AppEnv>, code: ErrorCode, message: string, status: number): Response {
  const body: ErrorBody = { error: { code, message } };
  // A stream that is not ready yet will be soon: tell players to retry quickly (RFC 9110 §10.2.3).
  if (code === 'stream_not_ready') c.header('Retry-After', '1');
  if (code === 'rate_limited') c.header('Retry-After', '10');
  c.header('Cache-Control', 'no-store');
  return c.json(body, status as 400);
}

/** Maps every thrown error to the JSON error shape: coded errors keep their status, zod errors are 400. */
export const handleError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof EdgeliveError) {
    // Not-ready is an expected answer, not a fault; real faults are worth a log line.
    if (err.status >= 500 && err.code !== 'stream_not_ready') console.error(`edgelive ${err.code}: ${err.message}`, err.cause ?? '');
    return errorResponse(c, err.code, err.message, err.status);
  }
  if (err instanceof z.ZodError) return errorResponse(c, 'bad_request', zodErrorMessage(err), 400);
  console.error(`unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}:`, err);
  return errorResponse(c, 'internal', 'internal error', 500);
};

/** 404 for every route the app does not have. */
export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, 'not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`, 404);
