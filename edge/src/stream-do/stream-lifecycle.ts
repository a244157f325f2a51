/** A stream's lifecycle writes (create, publish, disconnect, end, fail, expire, delete) and the clocks they read. */
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

/** What a publish presents: the key's hash, the origin node, its source, any cluster takeover and the node's own msn floor. */
export interface PublishRequest {
  keyHash: string;
  nodeId: string;
  source: SourceInfo;
  takeover?: { previousEpoch: number };
  minMsn?: number;
}

/**
 * When a `reconnecting` or `error` stream's reconnect window started: when it left live. Rows
 * written before `interrupted_at` existed fall back to their last error's time. Pure.
 */
export function windowSince(row: StreamRow): number | null {
  if (row.status !== 'reconnecting' && row.status !== 'error') return null;
  if (row.interrupted_at !== null) return row.interrupted_at;
  return row.last_error === null ? null : (JSON.parse(row.last_error) as { at: number }).at;
}

/** When the stream's reconnect window runs out (it ends then), or null when it is not waiting. Pure. */
export function windowDeadline(row: StreamRow): number | null {
  const since = windowSince(row);
  return since === null ? null : since + row.reconnect_window_seconds * 1000;
}

/** Whether a waiting stream's reconnect window has run out. Pure. */
export function isWindowExpired(row: StreamRow, now: number): boolean {
  const deadline = windowDeadline(row);
  return deadline !== null && now >= deadline;
}

/** Whether the publisher announced or sent a heartbeat within the liveness timeout. Pure. */
export function isPublisherFresh(row: StreamRow, now: number, livenessMs: number): boolean {
  return row.last_activity_at !== null && now - row.last_activity_at < livenessMs;
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
  tx.event(now, 'created', { name: input.name, reconnectWindowSeconds: input.reconnectWindowSeconds });
  store.bumpRegistryVersion();
}

/**
 * Logs a refused publish (the refusal itself is decided by `publishRefusal`); `count` is how many
 * refusals this event stands for (they are aggregated to one event a minute). Runs inside a write.
 */
export function logPublishRefusal(tx: WriteContext, now: number, refusal: PublishRefusal, req: PublishRequest, count = 1): void {
  tx.event(now, 'publish_refused', { reason: refusal.reason, code: refusal.code, nodeId: req.nodeId, source: req.source, count });
}

/**
 * Opens a new epoch for a publish the policy let through: idle → live, a reconnect
 * (reconnecting/error → live), or a live stream whose publisher went silent or is taken over
 * (live → error → live). The first msn never reuses a number: past every stored row, past what the
 * last epoch reserved at its end, and past what the node itself still has queued. Runs inside a write.
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
  const interruptedAt = windowSince(store.stream()!);
  const next = tx.transition(status, 'publish');
  const epoch = row.epoch + 1;
  const firstMsn = Math.max(store.nextMsn(), row.reserved_msn, req.minMsn ?? 0);
  store.updateStream({
    status: next,
    epoch,
    node_id: req.nodeId,
    source: JSON.stringify(req.source),
    metrics: null,
    started_at: row.started_at ?? now,
    last_activity_at: now,
    last_heartbeat_at: null,
    interrupted_at: null,
    reserved_msn: firstMsn,
  });
  tx.event(now, 'publish_accepted', { epoch, nodeId: req.nodeId, source: req.source });
  // Same stream, same playback URLs: the playlists mark the break with EXT-X-DISCONTINUITY.
  if (interruptedAt !== null) tx.event(now, 'reconnected', { epoch, afterMs: now - interruptedAt });
  tx.event(now, 'live', { epoch });
  store.bumpRegistryVersion();
  return { streamId: row.id, epoch, ladder: JSON.parse(row.ladder) as Ladder, segmentSeconds: row.segment_seconds, firstMsn, partSeconds: row.low_latency === 1 ? row.part_seconds : null };
}

/**
 * The origin ended this epoch's publish. publisher_stopped: live → reconnecting for the stream's
 * reconnect window (live → ended when it is 0); transcoder_failed / node_shutdown: live → error
 * (resumable in the same window). The end's nextMsn is reserved for the next epoch. A repeated end
 * (a retry after the answer was lost, or an end after the edge already moved on) answers the status
 * it finds. Returns the status. Runs inside a write, after `checkAnnounce` checked the epoch.
 */
export function endBroadcast(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number, a: EndAnnounce): StreamStatus {
  const from = row.status as StreamStatus;
  const reserved = Math.max(row.reserved_msn, a.nextMsn ?? 0);
  if (from !== 'live') {
    if (from !== 'ended' && reserved !== row.reserved_msn) store.updateStream({ reserved_msn: reserved });
    return from;
  }
  store.updateStream({ reserved_msn: reserved });
  let status: StreamStatus;
  if (a.reason !== 'publisher_stopped') {
    const message = a.message ?? (a.reason === 'node_shutdown' ? 'the origin node shut down' : 'the transcoder failed');
    status = failStream(store, tx, row, now, { reason: a.reason, message, at: now });
  } else if (row.reconnect_window_seconds === 0) {
    status = tx.transition(from, 'end');
    store.updateStream({ status, ended_at: now, node_id: null });
    tx.event(now, 'ended', { epoch: row.epoch, reason: a.reason, ...(a.message ? { message: a.message } : {}) });
  } else {
    status = tx.transition(from, 'disconnect');
    store.updateStream({ status, interrupted_at: now, node_id: null });
    tx.event(now, 'reconnecting', { epoch: row.epoch, reason: a.reason, windowSeconds: row.reconnect_window_seconds });
  }
  store.bumpRegistryVersion();
  return status;
}

/** live → error with a reason, kept as `lastError`; its reconnect window starts. Returns the new status. Runs inside a write. */
export function failStream(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number, error: LastError): StreamStatus {
  const status = tx.transition(row.status as StreamStatus, 'fail');
  store.updateStream({ status, last_error: JSON.stringify(error), interrupted_at: now });
  tx.event(now, 'error', { epoch: row.epoch, reason: error.reason, message: error.message });
  return status;
}

/** live → error (`origin_silent`) after the liveness timeout passed without a word. Runs inside a write. */
export function failSilentOrigin(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number, livenessMs: number): void {
  const message = `no heartbeat or announce for ${livenessMs / 1000}s`;
  failStream(store, tx, row, now, { reason: 'origin_silent', message, at: now });
  store.bumpRegistryVersion();
}

/** reconnecting/error → ended (`reconnect_window_expired`) once the reconnect window ran out. Runs inside a write. */
export function expireWindow(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number): void {
  const status = tx.transition(row.status as StreamStatus, 'expire');
  store.updateStream({ status, ended_at: now, node_id: null });
  tx.event(now, 'ended', { epoch: row.epoch, reason: 'reconnect_window_expired' });
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

/**
 * An ended stream nothing keeps any more (its final playlists answer 410, no recording is left, its
 * retention purges are done) goes like a deleted one: an `expired` event, then the same purge of
 * its objects and of the StreamDO's storage. Runs inside a write.
 */
export function expireStream(store: LifecycleStore, tx: WriteContext, row: StreamRow, now: number): void {
  store.updateStream({ deleted_at: now, purge_pending: 1 });
  tx.event(now, 'expired', { endedAt: row.ended_at });
  store.bumpRegistryVersion();
}
