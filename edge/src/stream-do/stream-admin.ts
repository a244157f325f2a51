/** The management API's writes on a stream besides create and delete: end now, rotate the key, change settings. */
import type { UpdateStreamInput } from '../../../shared/src/schemas.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import type { WriteContext } from './stream-writer.ts';

/** The row writes these make: a StreamStore, or an object literal in unit tests. */
export type AdminStore = Pick<StreamStore, 'updateStream' | 'bumpRegistryVersion'>;

/**
 * `POST /v1/streams/:id/end`: live, reconnecting or error → ended at once. The publisher, if any,
 * learns at its next heartbeat (409), and its origin disconnects it. Idle or ended is refused
 * (`invalid_transition`, logged as a refused transition). Runs inside a write.
 */
export function endByApi(store: AdminStore, tx: WriteContext, row: StreamRow, now: number): void {
  const status = tx.transition(row.status as StreamStatus, 'end');
  store.updateStream({ status, ended_at: now, node_id: null });
  tx.event(now, 'ended', { epoch: row.epoch, reason: 'ended_by_api' });
  store.bumpRegistryVersion();
}

/**
 * Replaces the key's hash, and revokes a publish running on the old key: its epoch is fenced
 * (epoch + 1, so its next heartbeat or announce gets `stale_epoch` and its origin disconnects it)
 * and the stream waits for the new key within its reconnect window (live → reconnecting; an
 * `error` stream stays error). Runs inside a write.
 */
export function rotateKey(store: AdminStore, tx: WriteContext, row: StreamRow, now: number, keyHash: string): void {
  store.updateStream({ key_hash: keyHash });
  tx.event(now, 'key_rotated', {});
  if (row.status === 'live') {
    const status = tx.transition('live', 'revoke');
    store.updateStream({ status, epoch: row.epoch + 1, node_id: null, interrupted_at: now });
    tx.event(now, 'reconnecting', { epoch: row.epoch, reason: 'key_rotated', windowSeconds: row.reconnect_window_seconds });
    store.bumpRegistryVersion();
  } else if (row.status === 'error') {
    // The failed epoch's origin may still be alive (origin_silent) and would resume on its next
    // heartbeat: fence it too. The window keeps running from the failure.
    store.updateStream({ epoch: row.epoch + 1, node_id: null });
  }
}

/**
 * `PATCH /v1/streams/:id`: renames the stream, changes its reconnect window or its playback policy. A waiting stream's
 * deadline moves with the window (the caller re-arms the alarm). Runs inside a write.
 */
export function updateSettings(store: AdminStore, tx: WriteContext, now: number, input: UpdateStreamInput): void {
  const changes: Partial<StreamRow> = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.reconnectWindowSeconds !== undefined) changes.reconnect_window_seconds = input.reconnectWindowSeconds;
  if (input.playbackPolicy !== undefined) changes.playback_policy = input.playbackPolicy;
  store.updateStream(changes);
  tx.event(now, 'updated', { ...input });
  if (input.name !== undefined) store.bumpRegistryVersion();
}
