/**
 * Playback tokens of `signed` streams: HS256 JWTs (RFC 7519) made and checked with `jose`. Checking
 * needs only the keys and the clock, never a Durable Object. The `kid` header names the key (the
 * first 16 hex digits of its SHA-256), so a token signed before a rotation still verifies against
 * the previous key until it expires. Pure apart from Web Crypto: `now` is passed in.
 */
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';

/** The HS256 keys: the one new tokens are signed with, and the one it replaced (or null). */
export interface PlaybackSigningKeys {
  readonly current: string;
  readonly previous: string | null;
}

/** `aud` of every playback token, so no other JWT signed with the same key passes for one. */
export const PLAYBACK_TOKEN_AUDIENCE = 'edgelive:playback';

/** Clock difference between the edge locations tolerated on `exp`, `iat` and `nbf`. */
export const TOKEN_CLOCK_LEEWAY_SECONDS = 5;

/** Longer strings are not tokens the API mints (about 300 characters); refused before any parsing. */
export const MAX_TOKEN_LENGTH = 2048;

/** What a playback token says, once verified. */
export interface PlaybackClaims {
  streamId: string;
  viewerId: string | null;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** Why a token was refused; each becomes the message of a 403. */
export type TokenRefusal = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'wrong_stream' | 'invalid_claims';

/** The outcome of a check: the claims, or the reason for refusal. */
export type TokenCheck = { ok: true; claims: PlaybackClaims } | { ok: false; reason: TokenRefusal };

const encoder = new TextEncoder();
const keyIds = new Map<string, Promise<string>>();

/** The `kid` of a key: the first 16 hex digits of its SHA-256 (names the key without revealing it). */
export function keyId(secret: string): Promise<string> {
  let id = keyIds.get(secret);
  if (!id) {
    id = crypto.subtle.digest('SHA-256', encoder.encode(secret)).then((d) =>
      [...new Uint8Array(d).slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(''),
    );
    keyIds.set(secret, id);
  }
  return id;
}

/** A token for `streamId` (and `viewerId`, when given) valid from `issuedAt` until `expiresAt` (seconds). */
export async function signPlaybackToken(keys: PlaybackSigningKeys, claims: { streamId: string; viewerId?: string | undefined; issuedAt: number; expiresAt: number }): Promise<string> {
  const jwt = new SignJWT(claims.viewerId === undefined ? {} : { vid: claims.viewerId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: await keyId(keys.current) })
    .setSubject(claims.streamId)
    .setAudience(PLAYBACK_TOKEN_AUDIENCE)
    .setIssuedAt(claims.issuedAt)
    .setExpirationTime(claims.expiresAt);
  return jwt.sign(encoder.encode(keys.current));
}

/** The key a token names by `kid`, among the current and previous ones; null for any other. */
async function keyFor(keys: PlaybackSigningKeys, kid: unknown): Promise<string | null> {
  if (typeof kid !== 'string') return null;
  if (kid === (await keyId(keys.current))) return keys.current;
  if (keys.previous !== null && kid === (await keyId(keys.previous))) return keys.previous;
  return null;
}

/** Checks `token` for `streamId` at `now` (seconds): signature, key, audience, subject and expiry. */
export async function verifyPlaybackToken(keys: PlaybackSigningKeys, token: string, streamId: string, now: number): Promise<TokenCheck> {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const secret = await keyFor(keys, header.kid);
  if (secret === null) return { ok: false, reason: 'unknown_key' };
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), {
      algorithms: ['HS256'],
      audience: PLAYBACK_TOKEN_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: new Date(now * 1000),
      clockTolerance: TOKEN_CLOCK_LEEWAY_SECONDS,
    });
    if (payload.sub !== streamId) return { ok: false, reason: 'wrong_stream' };
    const vid = payload['vid'];
    return { ok: true, claims: { streamId, viewerId: typeof vid === 'string' ? vid : null, expiresAt: payload.exp! } };
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'bad_signature' };
    if (err instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: 'invalid_claims' };
    return { ok: false, reason: 'malformed' };
  }
}

/** The message of the 403 for a refusal. */
export function refusalMessage(reason: TokenRefusal): string {
  switch (reason) {
    case 'malformed':
      return 'playback token is not a well-formed token';
    case 'unknown_key':
      return 'playback token is signed with a key this edge does not hold (unknown kid)';
    case 'bad_signature':
      return 'playback token signature does not verify';
    case 'expired':
      return 'playback token has expired';
    case 'wrong_stream':
      return 'playback token is for another stream';
    case 'invalid_claims':
      return 'playback token claims are not valid here (audience, issue time or not-before)';
  }
}
