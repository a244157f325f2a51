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

/** Path and query of a relay request. */
export function relayTarget(streamKey: string, takeoverFrom: string | undefined): string {
  const q = new URLSearchParams({ key: streamKey, ...(takeoverFrom ? { takeoverFrom } : {}) });
  return `${RELAY_PATH}?${q.toString()}`;
}

/** Headers that sign a relay request. */
export async function relayHeaders(secret: string, target: string, nowMs: number): Promise<Record<string, string>> {
  const ts = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: await signRequest(secret, 'POST', target, ts, new Uint8Array()) };
}

/** True when a relay request's signature is valid and fresh. */
export async function relaySigned(secret: string, target: string, headers: Record<string, string | string[] | undefined>, nowMs: number): Promise<boolean> {
  const h = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const verdict = await verifyRequest(
    secret,
    { method: 'POST', path: target, timestamp: h(TIMESTAMP_HEADER) ?? null, signature: h(SIGNATURE_HEADER) ?? null, body: new Uint8Array() },
    Math.floor(nowMs / 1000),
  );
  return verdict === 'ok';
}
