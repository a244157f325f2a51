/**
 * What deleting a stream leaves behind, removed: its media objects in R2, its objects in the
 * origin's S3-compatible store (a signed call to the origin), and finally the StreamDO's own
 * storage. Kept apart from retention purges (recordings, DVR) so each purge has one owner.
 */
import { SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from '../../../shared/src/signing/request-signature.ts';

/** R2 list/delete rounds per alarm (1,000 objects each): a long stream is purged over several alarms. */
export const PURGE_BATCHES_PER_ALARM = 5;
/** How long the origin may take to purge its store. */
export const ORIGIN_PURGE_TIMEOUT_MS = 5000;

/** The origin's purge URL for a stream, next to its media pull route (`…/media` → `…/internal/v1/purge/<id>`). Pure. */
export function originPurgeUrl(originPullUrl: string, streamId: string): string {
  const base = originPullUrl.replace(/\/media\/?$/, '');
  return `${base}/internal/v1/purge/${streamId}`;
}

/** Deletes up to `PURGE_BATCHES_PER_ALARM` pages of `live/<id>/` in R2; true once none are left. */
export async function purgeBucket(bucket: R2Bucket, streamId: string): Promise<boolean> {
  for (let i = 0; i < PURGE_BATCHES_PER_ALARM; i++) {
    const listed = await bucket.list({ prefix: `live/${streamId}/`, limit: 1000 });
    if (listed.objects.length > 0) await bucket.delete(listed.objects.map((o) => o.key));
    if (!listed.truncated) return true;
  }
  return false;
}

/**
 * Asks the origin to delete the stream's objects from its store (signed like every edge ↔ origin
 * call). One attempt: an origin that cannot be reached is logged, not retried forever (in
 * production the store is R2 itself, which `purgeBucket` already emptied).
 */
export async function purgeOriginStore(originPullUrl: string, secret: string | null, streamId: string): Promise<boolean> {
  if (secret === null) return false;
  const url = new URL(originPurgeUrl(originPullUrl, streamId));
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: await signRequest(secret, 'POST', url.pathname, timestamp, new Uint8Array()) };
  try {
    const res = await fetch(url, { method: 'POST', headers, signal: AbortSignal.timeout(ORIGIN_PURGE_TIMEOUT_MS) });
    await res.body?.cancel();
    if (!res.ok) console.warn(`stream ${streamId}: origin purge answered ${res.status}`);
    return res.ok;
  } catch (err) {
    console.warn(`stream ${streamId}: origin purge failed: ${(err as Error).message}`);
    return false;
  }
}
