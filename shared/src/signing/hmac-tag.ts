/**
 * Short keyed tags (HMAC-SHA256, truncated, base64url) for values the edge mints and later verifies
 * without storing them: viewer session ids and stream ids. Pure WebCrypto, no clock.
 */

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    // A handful of secrets per isolate at most (one per deploy); the cache saves an importKey per request.
    if (keys.size > 8) keys.clear();
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    keys.set(secret, key);
  }
  return key;
}

/** base64url without padding. Pure. */
export function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The first `bytes` bytes of HMAC-SHA256(secret, `<domain>\n<value>`), base64url. The domain keeps
 * tags of different kinds apart when they share one secret.
 */
export async function hmacTag(secret: string, domain: string, value: string, bytes: number): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(`${domain}\n${value}`));
  return base64url(new Uint8Array(mac).subarray(0, bytes));
}

/** Compares two strings in time that depends only on their lengths. Pure. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
