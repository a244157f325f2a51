/**
 * Standard Webhooks signing (spec "Signature scheme"): `v1,` + base64 of HMAC-SHA256 over
 * `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64-decoded part of the `whsec_` secret.
 * WebCrypto only, so it runs in the Worker. No clock reads: the timestamp is passed in.
 */

/** What every webhook secret starts with. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Random bytes in a new secret (the spec asks for at least 24). */
export const WEBHOOK_SECRET_BYTES = 32;

/** The three headers of one attempt. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A fresh endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(WEBHOOK_SECRET_BYTES)));
}

/** The `webhook-signature` value (`v1,<base64>`) of one message at one attempt time. */
export async function signWebhook(secret: string, messageId: string, timestampSeconds: number, body: string): Promise<string> {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error(`webhook secret must start with ${WEBHOOK_SECRET_PREFIX}`);
  const key = await crypto.subtle.importKey('raw', fromBase64(secret.slice(WEBHOOK_SECRET_PREFIX.length)), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${messageId}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The Standard Webhooks headers of an attempt made at `nowMs`. */
export async function webhookSignatureHeaders(secret: string, messageId: string, nowMs: number, body: string): Promise<WebhookSignatureHeaders> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signWebhook(secret, messageId, timestamp, body),
  };
}
