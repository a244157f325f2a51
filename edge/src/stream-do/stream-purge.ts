/**
 * What deleting a stream leaves behind, removed: its media objects in R2, its objects in the
 * origin's S3-compatible store (a signed call to the origin's media delete route), and finally the StreamDO's own
 * storage. Kept apart from retention purges (recordings, DVR) so each purge has one owner.
 */
import { deleteAtOrigin } from '../recordings/media-deleter.ts';
import { PURGE_BATCH, PURGE_BATCHES_PER_ALARM } from '../recordings/stream-recordings.ts';


/** Deletes up to `PURGE_BATCHES_PER_ALARM` pages of `live/<id>/` in R2 (a long stream over several alarms); true once none are left. */
export async function purgeBucket(bucket: R2Bucket, streamId: string): Promise<boolean> {
  for (let i = 0; i < PURGE_BATCHES_PER_ALARM; i++) {
    const listed = await bucket.list({ prefix: `live/${streamId}/`, limit: PURGE_BATCH });
    if (listed.objects.length > 0) await bucket.delete(listed.objects.map((o) => o.key));
    if (!listed.truncated) return true;
  }
  return false;
}

/**
 * Asks the origin to delete the stream's objects from its store (`{streamId}` to the one signed
 * delete route, `MEDIA_DELETE_URL`). One attempt: an origin that cannot be reached is logged, not
 * retried forever. Without the route (production: the store is R2, which `purgeBucket` emptied)
 * there is nothing to do.
 */
export async function purgeOriginStore(mediaDeleteUrl: string | null, secret: string | null, streamId: string): Promise<boolean> {
  if (mediaDeleteUrl === null) return false;
  try {
    await deleteAtOrigin(mediaDeleteUrl, secret, { streamId });
    return true;
  } catch (err) {
    console.warn(`stream ${streamId}: origin purge failed: ${(err as Error).message}`);
    return false;
  }
}
