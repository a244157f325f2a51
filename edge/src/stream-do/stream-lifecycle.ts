/** A stream's lifecycle writes (create, publish, end, fail, expire, delete) and the clocks they read. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { timingSafeEqualHex } from '../../../shared/src/keys/stream-key.ts';
import type { EndAnnounce, PublishGrant } from '../../../shared/src/schemas.ts';
import type { Ladder, SourceInfo, StreamStatus } from '../../../shared/src/types.ts';
import type { PublishRefusal, PublishState } from './publish-policy.ts';
import type { StreamRow } from './stream-schema.ts';
import type { NewStream, StreamStore } from './stream-store.ts';
import type { LastError } from './stream-view.ts';
import type { WriteContext } from './stream-writer.ts';

/** The row writes the lifecycle makes: a StreamStore, or an object literal in unit tests. */
export type LifecycleStore = Pick<StreamStore, 'stream' | 'insertStream' | 'updateStream' | 'bumpRegistryVersion' | 'nextMsn'>;

/** What a publish presents: the key's hash, the origin node, its source and any cluster takeover. */
export interface PublishRequest {
  keyHash: string;
  nodeId: string;
  source: SourceInfo;
  takeover?: { previousEpoch: number };
}

/** When an `error` stream started its grace window: its last error's time. Pure. */
export function errorSince(row: StreamRow): number | null {
  if (row.status !== 'error' || row.last_error === null) return null;
  return (JSON.parse(row.last_error) as { at: number }).at;
}

/** Whether the publisher announced or sent a heartbeat within the liveness timeout. Pure. */
export function isPublisherFresh(row: StreamRow, now: number, livenessMs: number): boolean {
  return row.last_activity_at !== null && now - row.last_activity_at < livenessMs;
}

/** Whether an `error` stream's resume grace window has run out. Pure. */
export function isGraceExpired(row: StreamRow, now: number, graceMs: number): boolean {
  const since = errorSince(row);
  return since !== null && now - since >= graceMs;
}

/** What the publish policy reads of the row (the key compared in constant time). Pure. */
export function publishState(row: StreamRow, keyHash: string, now: number, livenessMs: number): PublishState {
  return {
    id: row.id,
    status: row.status as StreamStatus,
    keyMatches: timingSafeEqualHex(row.key_hash, keyHash),
    publisherFresh: isPublisherFresh(row, now, livenessMs),
    nodeId: row.node_id,
    epoch: row.epoch,
  };
}

/** Inserts the stream row; refuses with `conflict` if this id already holds one. Runs inside a write. */
export function createStream(store: LifecycleStore, tx: WriteContext, input: Omit<NewStream, 'createdAt'>, now: number): void {
  if (store.stream()) throw new EdgeliveError('conflict', `stream ${input.id} already exists`);
  store.insertStream({ ...input, createdAt: now });
  tx.event(now, 'created', { name: input.name });
  store.bumpRegistryVersion();
}

/** Logs a refused publish (the refusal itself is decided by `publishRefusal`). Runs inside a write. */
export function logPublishRefusal(tx: WriteContext, now: number, refusal: PublishRefusal, req: PublishRequest): void {
  tx.event(now, 'publish_refused', { reason: refusal.reason, code: refusal.code, nodeId: req.nodeId, source: req.source });
}

/**
 * Opens a new epoch for a publish the policy let through: idle/error → live, or a live stream whose
 * publisher went silent or is taken over (live → error → live). Runs inside a write.
 */
export function acceptPublish(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number, req: PublishRequest): PublishGrant {
  let status = row.status as StreamStatus;
  if (status === 'live') {
    // The previous publisher went silent before the alarm noticed, or a cluster takeover replaces
    // its epoch: fail it first, then take over (live → error → live).
    const takeover = req.takeover ? `taken over by node ${req.nodeId} from epoch ${req.takeover.previousEpoch}` : undefined;
    status = failStream(store, tx, row, now, {
      reason: takeover ? 'origin_taken_over' : 'origin_silent',
      message: takeover ?? 'superseded by a new publish after the origin went silent',
      at: now,
    });
  }
  const failedAt = status === 'error' ? (errorSince(store.stream()!) ?? now) : null;
  const next = tx.transition(status, 'publish');
  const epoch = row.epoch + 1;
  store.updateStream({
    status: next,
    epoch,
    node_id: req.nodeId,
    source: JSON.stringify(req.source),
    metrics: null,
    started_at: row.started_at ?? now,
    last_activity_at: now,
    last_heartbeat_at: null,
  });
  tx.event(now, 'publish_accepted', { epoch, nodeId: req.nodeId, source: req.source });
  // Same stream, same playback URLs: the playlists mark the gap with EXT-X-DISCONTINUITY.
  if (failedAt !== null) tx.event(now, 'reconnected', { epoch, afterMs: now - failedAt });
  tx.event(now, 'live', { epoch });
  store.bumpRegistryVersion();
  return { streamId: row.id, epoch, ladder: JSON.parse(row.ladder) as Ladder, segmentSeconds: row.segment_seconds, firstMsn: store.nextMsn() };
}

/**
 * The broadcast is over: live → ended when the broadcaster stopped; live → error (resumable) when
 * the pipeline failed or the node went down under it. Returns the new status. Runs inside a write.
 */
export function endBroadcast(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number, a: EndAnnounce): StreamStatus {
  let status: StreamStatus;
  if (a.reason !== 'publisher_stopped') {
    const message = a.message ?? (a.reason === 'node_shutdown' ? 'the origin node shut down' : 'the transcoder failed');
    status = failStream(store, tx, row, now, { reason: a.reason, message, at: now });
  } else {
    status = tx.transition(row.status as StreamStatus, 'end');
    store.updateStream({ status, ended_at: now });
    tx.event(now, 'ended', { epoch: row.epoch, reason: a.reason, ...(a.message ? { message: a.message } : {}) });
  }
  store.bumpRegistryVersion();
  return status;
}

/** live → error with a reason, kept as `lastError`; returns the new status. Runs inside a write. */
export function failStream(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number, error: LastError): StreamStatus {
  const status = tx.transition(row.status as StreamStatus, 'fail');
  store.updateStream({ status, last_error: JSON.stringify(error) });
  tx.event(now, 'error', { epoch: row.epoch, reason: error.reason, message: error.message });
  return status;
}

/** live → error (`origin_silent`) after the liveness timeout passed without a word. Runs inside a write. */
export function failSilentOrigin(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number, livenessMs: number): void {
  const message = `no heartbeat or announce for ${livenessMs / 1000}s`;
  failStream(store, tx, row, now, { reason: 'origin_silent', message, at: now });
  store.bumpRegistryVersion();
}

/** error → ended (`grace_expired`) once the grace window ran out. Runs inside a write. */
export function expireGrace(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number): void {
  const status = tx.transition(row.status as StreamStatus, 'expire');
  store.updateStream({ status, ended_at: now });
  tx.event(now, 'ended', { epoch: row.epoch, reason: 'grace_expired' });
  store.bumpRegistryVersion();
}

/**
 * Tombstones the stream, from any status (deletion is beside the lifecycle, not in it): a `deleted`
 * event and a pending media purge. Runs inside a write, on a row `requireStream` returned.
 */
export function deleteStream(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number): void {
  store.updateStream({ deleted_at: now, purge_pending: 1 });
  tx.event(now, 'deleted', { status: row.status });
  store.bumpRegistryVersion();
}
