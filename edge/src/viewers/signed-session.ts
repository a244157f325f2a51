/**
 * Viewer session ids minted and signed by the edge: 22 random base64url characters followed by a
 * 22-character tag (128 bits of HMAC-SHA256 keyed by the edge's secret). Checked statelessly on
 * every poll and beacon, so a forged or made-up `sid` is served like any anonymous viewer but never
 * counted, never reaches a Durable Object and never votes on CDN health.
 */
import { base64url, hmacTag, timingSafeEqual } from '../../../shared/src/signing/hmac-tag.ts';

/** Length of the random part and of the tag. */
const PART = 22;
const SESSION_RE = /^[A-Za-z0-9_-]{44}$/;
// Keeps session tags apart from any other tag made with the same secret.
const DOMAIN = 'edgelive-session-v1';

/** A fresh signed session id (44 characters of `[A-Za-z0-9_-]`); unsigned (never counted) when the edge has no secret. */
export async function mintSignedSession(secret: string | null): Promise<string> {
  const random = base64url(crypto.getRandomValues(new Uint8Array(16)));
  return secret === null ? random : signSession(secret, random);
}

/** The session id for a 22-character random part (tests name their sessions this way). */
export async function signSession(secret: string, random: string): Promise<string> {
  return random + (await hmacTag(secret, DOMAIN, random, 16));
}

/** True when `sid` was minted by an edge holding `secret`. */
export async function isSignedSession(secret: string | null, sid: string): Promise<boolean> {
  if (secret === null || !SESSION_RE.test(sid)) return false;
  const random = sid.slice(0, PART);
  return timingSafeEqual(sid.slice(PART), await hmacTag(secret, DOMAIN, random, 16));
}
