/**
 * Stream ids and keys. A key is `<streamId>_<secret>`: the id names the stream's Durable Object
 * (no global lookup), and only a SHA-256 of the secret is stored.
 */

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Length of a stream id (lowercase letters and digits). */
export const STREAM_ID_LENGTH = 16;
/** Length of a key's secret part (base62: about 190 bits). */
export const SECRET_LENGTH = 32;

const STREAM_ID_RE = new RegExp(`^[a-z0-9]{${STREAM_ID_LENGTH}}$`);
const STREAM_KEY_RE = new RegExp(`^([a-z0-9]{${STREAM_ID_LENGTH}})_([A-Za-z0-9]{${SECRET_LENGTH}})$`);

function randomString(alphabet: string, length: number): string {
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** A fresh random stream id. */
export function newStreamId(): string {
  return randomString(ID_ALPHABET, STREAM_ID_LENGTH);
}

/** A fresh random key secret. */
export function newKeySecret(): string {
  return randomString(SECRET_ALPHABET, SECRET_LENGTH);
}

/** True for a well-formed stream id. */
export function isStreamId(value: string): boolean {
  return STREAM_ID_RE.test(value);
}

/** Joins an id and a secret into the key a broadcaster uses. */
export function formatStreamKey(streamId: string, secret: string): string {
  return `${streamId}_${secret}`;
}

/** Splits a key into id and secret, or `null` when it is not a key at all. */
export function parseStreamKey(key: string): { streamId: string; secret: string } | null {
  const m = STREAM_KEY_RE.exec(key);
  return m ? { streamId: m[1]!, secret: m[2]! } : null;
}

/** Hex SHA-256 of a key secret: what the StreamDO stores instead of the secret. */
export async function hashKeySecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compares two equal-length hex strings without an early exit. */
export function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** `text` with the secret part of every stream key in it replaced (logs never carry a key). Pure. */
export function redactStreamKeys(text: string): string {
  return text.replace(/([a-z0-9]{16})_[A-Za-z0-9]{32}/g, '$1_<redacted>');
}
