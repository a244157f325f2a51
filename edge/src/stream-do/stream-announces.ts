/** What the origin's announces (renditions, segments, heartbeats, end) check and store; each runs inside a write. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { HeartbeatAnnounce, RenditionAnnounce, SegmentAnnounce } from '../../../shared/src/schemas.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import { appendSegments, type SegmentIndexStore } from './append-segments.ts';
import { windowSince } from './stream-lifecycle.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import type { LastError } from './stream-view.ts';
import type { WriteContext } from './stream-writer.ts';

/** The rows the announces read and write: a StreamStore, or an object literal in unit tests. */
export type AnnounceStore = Pick<StreamStore, 'updateStream' | 'upsertRendition' | 'bumpRegistryVersion'> & SegmentIndexStore;

/** The origin calls that carry an epoch. */
export type AnnounceKind = 'rendition' | 'segments' | 'heartbeat' | 'end';

/** What every accepted announce answers. */
export interface AnnounceAck {
  status: StreamStatus;
  epoch: number;
}

/** What `checkAnnounce` lets through: as is, or after resuming an `error` stream whose origin was only out of reach. */
export type AnnounceVerdict = 'accept' | 'resume';

function lastErrorReason(row: StreamRow): string | null {
  return row.last_error === null ? null : (JSON.parse(row.last_error) as LastError).reason;
}

/**
 * The checks of every origin announce. The epoch must be current (else `stale_epoch`). Then, by
 * status: live takes everything. reconnecting and error take renditions and segments of the
 * current epoch (uploads that finish after the publisher left) without a change of status, but
 * no heartbeat: that epoch's origin already ended it (`invalid_transition`). An `error` the edge
 * declared because the origin went silent (`origin_silent`) is resumed by any announce of its
 * epoch: the edge was out of reach, not the origin. Ended (and idle) refuse. `end` is judged by
 * `endBroadcast`, which answers a repeated end with the status it finds.
 */
export function checkAnnounce(row: StreamRow, epoch: number, kind: AnnounceKind): AnnounceVerdict {
  if (epoch !== row.epoch) throw new EdgeliveError('stale_epoch', `epoch ${epoch} is not the current epoch ${row.epoch}`);
  if (kind === 'end' && row.status !== 'idle') return 'accept';
  switch (row.status) {
    case 'live':
      return 'accept';
    case 'error':
      if (lastErrorReason(row) === 'origin_silent') return 'resume';
      if (kind !== 'heartbeat') return 'accept';
      throw new EdgeliveError('invalid_transition', `stream ${row.id} is error (${lastErrorReason(row) ?? 'unknown'}): epoch ${epoch} is over, heartbeats are refused`);
    case 'reconnecting':
      if (kind !== 'heartbeat') return 'accept';
      throw new EdgeliveError('invalid_transition', `stream ${row.id} is reconnecting: epoch ${epoch} was ended by its origin, heartbeats are refused`);
    default:
      throw new EdgeliveError('invalid_transition', `stream ${row.id} is ${row.status}: announces are refused`);
  }
}

/**
 * error (origin_silent) → live in the same epoch: the origin kept going while the edge could not
 * hear it, so there is no discontinuity. Returns the row as it now is. Runs inside a write.
 */
export function resumeStream(store: AnnounceStore, tx: WriteContext, row: StreamRow, now: number): StreamRow {
  const status = tx.transition(row.status as StreamStatus, 'resume');
  const since = windowSince(row) ?? now;
  store.updateStream({ status, interrupted_at: null, last_activity_at: now });
  tx.event(now, 'resumed', { epoch: row.epoch, afterMs: now - since });
  store.bumpRegistryVersion();
  return { ...row, status, interrupted_at: null, last_activity_at: now };
}

/** Stores a rendition's init segment for the current epoch; counts as activity. */
export function storeRendition(store: AnnounceStore, row: StreamRow, now: number, a: RenditionAnnounce): AnnounceAck {
  store.upsertRendition(a.epoch, a.rendition);
  store.updateStream({ last_activity_at: now });
  return { status: row.status as StreamStatus, epoch: row.epoch };
}

/**
 * Appends segments to the index (`appendSegments`: skips what is already there, fills holes with
 * gaps, prunes to `keep` rows a rendition), logs one `segments_gap` per gap it made, raises the
 * target duration and counts as activity.
 */
export function storeSegments(
  store: AnnounceStore,
  tx: WriteContext,
  row: StreamRow,
  now: number,
  a: SegmentAnnounce,
  keep: number,
): AnnounceAck & { stored: number; skipped: number } {
  const result = appendSegments(store, a, row.segment_seconds, keep);
  for (const gap of result.gaps) tx.event(now, 'segments_gap', { ...gap });
  // Target duration never shrinks (RFC 8216bis §6.2.1: it must not change during a stream).
  store.updateStream({ last_activity_at: now, target_duration: Math.max(row.target_duration, result.longest) });
  return { status: row.status as StreamStatus, epoch: row.epoch, stored: result.stored, skipped: result.skipped };
}

/** Keeps the transcoder's ingest metrics; counts as activity. */
export function storeHeartbeat(store: AnnounceStore, row: StreamRow, now: number, a: HeartbeatAnnounce): AnnounceAck {
  store.updateStream({ last_activity_at: now, last_heartbeat_at: now, metrics: JSON.stringify(a.metrics) });
  return { status: row.status as StreamStatus, epoch: row.epoch };
}
