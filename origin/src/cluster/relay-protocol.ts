import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest, verifyRequest } from '../../../shared/src/signing/request-signature.ts';

/**
 * The ingest → transcoder relay: the ingest node POSTs the broadcaster's FLV (chunked, unending)
 * to `RELAY_PATH` on the transcoding node, signed like every internal call (path and query,
 * empty body). The transcoder answers 200 once live, or a 4xx/5xx error body when it refuses;
 * once live it ends the answer with one JSON line `{"type":"closed","code","reason"}`.
 */
export const RELAY_PATH = '/internal/v1/relay';

/** A relay's closing line; code `handover` asks the ingest node to place the stream again. */
export interface RelayClosed {
  type: 'closed';
  code: string;
  reason: string;
}

/** The header carrying the broadcaster's stream key: never in a URL, where proxies and logs keep it. */
export const RELAY_KEY_HEADER = 'x-edgelive-stream-key';

/** Path and query of a relay request (the key travels in `RELAY_KEY_HEADER`). */
export function relayTarget(takeoverFrom: string | undefined): string {
  return takeoverFrom ? `${RELAY_PATH}?${new URLSearchParams({ takeoverFrom }).toString()}` : RELAY_PATH;
}

// The signature covers the key too: path and query, then the key on its own line.
function signedPath(target: string, streamKey: string): string {
  return `${target}\nkey:${streamKey}`;
}

/** Headers that sign a relay request and carry its key. */
export async function relayHeaders(secret: string, target: string, streamKey: string, nowMs: number): Promise<Record<string, string>> {
  const ts = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: await signRequest(secret, 'POST', signedPath(target, streamKey), ts, new Uint8Array()), [RELAY_KEY_HEADER]: streamKey };
}

/** The relayed stream key when the request's signature (over path, query and key) is valid and fresh, else null. */
export async function relaySigned(secret: string, target: string, headers: Record<string, string | string[] | undefined>, nowMs: number): Promise<string | null> {
  const h = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const key = h(RELAY_KEY_HEADER) ?? '';
  const verdict = await verifyRequest(
    secret,
    { method: 'POST', path: signedPath(target, key), timestamp: h(TIMESTAMP_HEADER) ?? null, signature: h(SIGNATURE_HEADER) ?? null, body: new Uint8Array() },
    Math.floor(nowMs / 1000),
  );
  return verdict === 'ok' ? key : null;
}
