/**
 * Origin → edge request signing: HMAC-SHA256 over method, path, timestamp and a SHA-256 of the body.
 * Pure WebCrypto so the origin (Node) and the edge (workerd) share one implementation.
 */

/** Header carrying the signing time, seconds since epoch. */
export const TIMESTAMP_HEADER = 'x-edgelive-timestamp';
/** Header carrying the hex HMAC. */
export const SIGNATURE_HEADER = 'x-edgelive-signature';
/** How far a signing time may be from the verifier's clock unless the verifier says otherwise. */
export const MAX_CLOCK_SKEW_SECONDS = 60;

const encoder = new TextEncoder();

function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(body: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', new Uint8Array(body)));
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** The exact bytes that are signed: one field a line. */
export async function canonicalRequest(method: string, path: string, timestamp: number, body: Uint8Array): Promise<string> {
  return `${method.toUpperCase()}\n${path}\n${timestamp}\n${await sha256Hex(body)}`;
}

/** Hex HMAC-SHA256 of the canonical request. */
export async function signRequest(secret: string, method: string, path: string, timestamp: number, body: Uint8Array): Promise<string> {
  const key = await hmacKey(secret);
  return toHex(await crypto.subtle.sign('HMAC', key, encoder.encode(await canonicalRequest(method, path, timestamp, body))));
}

/** Why a signature was refused, or `ok`. */
export type SignatureVerdict = 'ok' | 'missing' | 'stale' | 'mismatch';

/**
 * Checks a signature in constant time (WebCrypto verify) and the timestamp against `nowSeconds`,
 * allowing `maxSkewSeconds` either way (the edge's SIGNATURE_MAX_SKEW_SECONDS).
 */
export async function verifyRequest(
  secret: string,
  req: { method: string; path: string; timestamp: string | null; signature: string | null; body: Uint8Array },
  nowSeconds: number,
  maxSkewSeconds: number = MAX_CLOCK_SKEW_SECONDS,
): Promise<SignatureVerdict> {
  if (!req.timestamp || !req.signature) return 'missing';
  const timestamp = Number(req.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > maxSkewSeconds) return 'stale';
  if (!/^[0-9a-f]{64}$/.test(req.signature)) return 'mismatch';
  const bytes = new Uint8Array(req.signature.match(/../g)!.map((h) => parseInt(h, 16)));
  const key = await hmacKey(secret);
  const data = encoder.encode(await canonicalRequest(req.method, req.path, timestamp, req.body));
  return (await crypto.subtle.verify('HMAC', key, bytes, data)) ? 'ok' : 'mismatch';
}
