/**
 * Read-only analytics feed tokens: `<expiresAt seconds>.<hex HMAC-SHA256>` over the stream id and
 * expiry. Pure WebCrypto; the caller passes the secret and the clock.
 */

const encoder = new TextEncoder();

/** Why a feed token was refused, or `ok`. */
export type FeedTokenVerdict = 'ok' | 'malformed' | 'expired' | 'mismatch';

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

// The "feed" prefix keeps these MACs apart from anything else signed with the same secret.
function payload(streamId: string, expiresAtSeconds: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encoder.encode(`feed\n${streamId}\n${expiresAtSeconds}`));
}

/** A token for one stream's feed, valid until `expiresAtSeconds`. */
export async function signFeedToken(secret: string, streamId: string, expiresAtSeconds: number): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), payload(streamId, expiresAtSeconds));
  return `${expiresAtSeconds}.${[...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Checks a token for `streamId` in constant time (WebCrypto verify) against `nowSeconds`. */
export async function verifyFeedToken(secret: string, streamId: string, token: string, nowSeconds: number): Promise<FeedTokenVerdict> {
  const match = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(token);
  if (!match) return 'malformed';
  const expiresAt = Number(match[1]);
  const mac = new Uint8Array(match[2]!.match(/../g)!.map((h) => parseInt(h, 16)));
  if (!(await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, payload(streamId, expiresAt)))) return 'mismatch';
  return expiresAt <= nowSeconds ? 'expired' : 'ok';
}
