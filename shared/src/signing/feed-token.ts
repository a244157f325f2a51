/**
 * Read-only analytics feed tokens: `<expiresAt seconds>.<nonce>.<hex HMAC-SHA256>` over the stream
 * id, expiry and a random nonce, so two tokens minted in the same second are two tokens (the edge
 * caps sockets per token). Tokens without a nonce (`<expiresAt>.<mac>`, minted before it) still
 * verify until they expire. Pure WebCrypto; the caller passes the secret and the clock.
 */

const encoder = new TextEncoder();

/** Why a feed token was refused, or `ok`. */
export type FeedTokenVerdict = 'ok' | 'malformed' | 'expired' | 'mismatch';

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

// The "feed" prefix keeps these MACs apart from anything else signed with the same secret.
function payload(streamId: string, expiresAtSeconds: number, nonce: string | undefined): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encoder.encode(`feed\n${streamId}\n${expiresAtSeconds}${nonce === undefined ? '' : `\n${nonce}`}`));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A token for one stream's feed, valid until `expiresAtSeconds`; `nonce` (16 hex) is random unless given. */
export async function signFeedToken(secret: string, streamId: string, expiresAtSeconds: number, nonce = hex(crypto.getRandomValues(new Uint8Array(8)))): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), payload(streamId, expiresAtSeconds, nonce));
  return `${expiresAtSeconds}.${nonce}.${hex(new Uint8Array(mac))}`;
}

/** Checks a token for `streamId` in constant time (WebCrypto verify) against `nowSeconds`. */
export async function verifyFeedToken(secret: string, streamId: string, token: string, nowSeconds: number): Promise<FeedTokenVerdict> {
  const match = /^(\d{1,12})\.(?:([0-9a-f]{16})\.)?([0-9a-f]{64})$/.exec(token);
  if (!match) return 'malformed';
  const expiresAt = Number(match[1]);
  const mac = new Uint8Array(match[3]!.match(/../g)!.map((h) => parseInt(h, 16)));
  if (!(await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, payload(streamId, expiresAt, match[2])))) return 'mismatch';
  return expiresAt <= nowSeconds ? 'expired' : 'ok';
}
