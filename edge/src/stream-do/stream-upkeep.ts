/** The StreamDO's background chores: registry reports, media purge, and when to wake up next. */
import type { StreamStatus } from '../../../shared/src/types.ts';
import type { Env } from '../env.ts';
import { registryStub } from '../stream-registry/stream-registry.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';

/** R2 deletes at most 1000 keys a call; a few calls per alarm keeps each alarm short. */
const PURGE_BATCHES_PER_ALARM = 5;
/** Delay before retrying a registry report that failed. */
const REGISTRY_RETRY_MS = 1000;

/** The timers besides the row that decide the next alarm. */
export interface AlarmInputs {
  livenessMs: number;
  /** How long an `error` stream may resume. */
  graceMs: number;
  /** How long events are kept, and the oldest one kept (null when the log is empty). */
  retentionMs: number;
  oldestEventTs: number | null;
  /** When the analytics feed wants its next snapshot, or null when it wants none. */
  snapshotDueAt: number | null;
}

/** When an `error` stream started its grace window: its last error's time. */
export function errorSince(row: StreamRow): number | null {
  if (row.status !== 'error' || row.last_error === null) return null;
  return (JSON.parse(row.last_error) as { at: number }).at;
}

/**
 * When the single alarm should fire: the earliest of the liveness deadline, the end of an error's
 * grace window, a pending media purge, a registry retry, the next event-log prune and the next feed
 * snapshot; null when nothing is pending. Pure.
 */
export function nextAlarmAt(row: StreamRow, now: number, t: AlarmInputs): number | null {
  const due: number[] = [];
  const alive = row.deleted_at === null;
  if (row.status === 'live' && alive) due.push((row.last_activity_at ?? now) + t.livenessMs);
  const failedAt = errorSince(row);
  if (failedAt !== null && alive) due.push(failedAt + t.graceMs);
  if (t.oldestEventTs !== null) due.push(t.oldestEventTs + t.retentionMs);
  if (t.snapshotDueAt !== null) due.push(t.snapshotDueAt);
  if (row.purge_pending === 1) due.push(now);
  if (row.registry_synced_version < row.registry_version) due.push(now + REGISTRY_RETRY_MS);
  return due.length ? Math.min(...due) : null;
}

/**
 * Reports the stream's current row to the registry if it has unreported changes. A failure is
 * logged and left pending, so the alarm retries it.
 */
export async function reportToRegistry(env: Env, store: StreamStore): Promise<void> {
  const row = store.stream();
  if (!row || row.registry_synced_version >= row.registry_version) return;
  try {
    await registryStub(env).report({
      id: row.id,
      name: row.name,
      status: row.status as StreamStatus,
      createdAt: row.created_at,
      updatedAt: Date.now(),
      version: row.registry_version,
      deleted: row.deleted_at !== null,
    });
    // Only the version that was sent counts as synced: a change made meanwhile stays pending.
    const synced = store.stream()?.registry_synced_version ?? 0;
    store.updateStream({ registry_synced_version: Math.max(synced, row.registry_version) });
  } catch (err) {
    console.error(`stream ${row.id}: registry report failed, retrying from the alarm`, err);
  }
}

/** Deletes a batch of the stream's objects under `live/<id>/`; clears the flag once none are left. */
export async function purgeMedia(bucket: R2Bucket, streamId: string, store: StreamStore): Promise<void> {
  for (let i = 0; i < PURGE_BATCHES_PER_ALARM; i++) {
    const listed = await bucket.list({ prefix: `live/${streamId}/`, limit: 1000 });
    if (listed.objects.length > 0) await bucket.delete(listed.objects.map((o) => o.key));
    if (!listed.truncated) {
      store.updateStream({ purge_pending: 0 });
      return;
    }
  }
}
