import type { MiddlewareHandler } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from '../../../shared/src/signing/request-signature.ts';
import type { AppEnv } from '../app-env.ts';
import { readBodyAtMost } from '../http/read-body-at-most.ts';

/** Internal bodies are small JSON announces; anything bigger is not from a healthy origin. */
const MAX_INTERNAL_BODY_BYTES = 256 * 1024;

/**
 * Why a stale signature was refused, naming how far the caller's clock is off: a skewed origin
 * clock is an operator's problem (NTP), and "signature stale" alone sends them looking elsewhere. Pure.
 */
export function staleSignatureMessage(timestamp: string, nowSeconds: number, allowedSkewSeconds: number): string {
  const signedAt = Number(timestamp);
  if (!Number.isInteger(signedAt)) return `signature stale: timestamp "${timestamp.slice(0, 20)}" is not whole seconds since the epoch`;
  const offset = nowSeconds - signedAt;
  const direction = offset > 0 ? 'behind' : 'ahead of';
  return `signature stale: request clock is ${Math.abs(offset)} s ${direction} the edge's, allowed ±${allowedSkewSeconds} s — check NTP on the origin`;
}

/**
 * Verifies the origin's HMAC over method, path (with query), timestamp and raw body, and keeps the
 * raw body in `c.var.rawBody` for the route (the body can be read only once).
 */
export const originSignature: MiddlewareHandler<AppEnv> = async (c, next) => {
  const settings = c.var.settings;
  const secret = settings.originSecret;
  if (secret === null) {
    console.error('ORIGIN_SECRET secret is not set: refusing every internal call');
    throw new EdgeliveError('unauthorized', 'signature missing: the internal API is not configured on this edge');
  }
  const body = await readBodyAtMost(c.req.raw, MAX_INTERNAL_BODY_BYTES);
  if (body === null) throw new EdgeliveError('payload_too_large', `body over ${MAX_INTERNAL_BODY_BYTES} bytes`);
  const url = new URL(c.req.url);
  const timestamp = c.req.header(TIMESTAMP_HEADER) ?? null;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const verdict = await verifyRequest(
    secret,
    { method: c.req.method, path: url.pathname + url.search, timestamp, signature: c.req.header(SIGNATURE_HEADER) ?? null, body },
    nowSeconds,
    settings.signatureMaxSkewSeconds,
  );
  if (verdict === 'stale' && timestamp !== null) {
    const message = staleSignatureMessage(timestamp, nowSeconds, settings.signatureMaxSkewSeconds);
    console.warn(`${c.req.method} ${url.pathname}: ${message}`);
    throw new EdgeliveError('unauthorized', message);
  }
  if (verdict !== 'ok') throw new EdgeliveError('unauthorized', `signature ${verdict}`);
  c.set('rawBody', body);
  await next();
};
