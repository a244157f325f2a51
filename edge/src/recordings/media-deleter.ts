/** Deletes media objects from storage: the R2 binding, and the origin's signed delete route when configured. */
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from '../../../shared/src/signing/request-signature.ts';

/** Deletes objects by key; resolves once they are gone (deleting an absent key succeeds). */
export interface MediaDeleter {
  delete(keys: readonly string[]): Promise<void>;
}

/**
 * The R2 binding (production: the bucket the origin writes) and, with `originDeleteUrl`, a signed
 * `POST {keys}` to the origin, which deletes from its own S3 store. Locally the binding is
 * miniflare's own bucket while the media live in the loopback S3 server, so only the origin
 * can delete them there.
 */
export function mediaDeleter(bucket: R2Bucket, originDeleteUrl: string | null, originSecret: string | null): MediaDeleter {
  return {
    async delete(keys) {
      if (keys.length === 0) return;
      await bucket.delete([...keys]);
      if (originDeleteUrl !== null) await deleteAtOrigin(originDeleteUrl, originSecret, { keys });
    },
  };
}

/** How long the origin may take to delete from its store. */
export const ORIGIN_DELETE_TIMEOUT_MS = 5000;

/**
 * The origin's signed delete route (`MEDIA_DELETE_URL`): `{keys}`, or `{streamId}` for everything a
 * deleted stream stored. Resolves with the count deleted; throws naming the answer otherwise.
 */
export async function deleteAtOrigin(originDeleteUrl: string, originSecret: string | null, what: { keys: readonly string[] } | { streamId: string }): Promise<number> {
  if (originSecret === null) throw new Error('MEDIA_DELETE_URL is set but ORIGIN_SECRET is not: cannot sign the delete');
  const body = new TextEncoder().encode(JSON.stringify(what));
  const path = new URL(originDeleteUrl).pathname;
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(originDeleteUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: await signRequest(originSecret, 'POST', path, timestamp, body) },
    body,
    signal: AbortSignal.timeout(ORIGIN_DELETE_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`origin media delete answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return ((await res.json()) as { deleted: number }).deleted;
}
