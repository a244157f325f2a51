/** What the origin's announces (renditions, segments, heartbeats) check and store; each runs inside a write. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { HeartbeatAnnounce, RenditionAnnounce, SegmentAnnounce } from '../../../shared/src/schemas.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import type { LifecycleEvent } from './stream-state-machine.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import type { WriteContext } from './stream-writer.ts';

/** The rows the announces read and write: a StreamStore, or an object literal in unit tests. */
export type AnnounceStore = Pick<StreamStore, 'updateStream' | 'upsertRendition' | 'rendition' | 'segment' | 'insertSegment'>;

/** What every accepted announce answers. */
export interface AnnounceAck {
  status: StreamStatus;
  epoch: number;
}

/**
 * The checks of every origin announce: the epoch is current (else `stale_epoch`) and the stream is
 * live (else `invalid_transition`). An `end` refused here is logged as a refused transition.
 */
export function checkAnnounce(tx: WriteContext, row: StreamRow, epoch: number, lifecycle?: LifecycleEvent): void {
  if (epoch !== row.epoch) throw new EdgeliveError('stale_epoch', `epoch ${epoch} is not the current epoch ${row.epoch}`);
  if (row.status !== 'live') {
    const message = `stream ${row.id} is ${row.status}, not live: announces are refused`;
    // An `end` here is a lifecycle transition the state machine would refuse: log it as one.
    if (lifecycle) throw tx.refuse(row.status as StreamStatus, lifecycle, message);
    throw new EdgeliveError('invalid_transition', message);
  }
}

/** Stores a rendition's init segment for the current epoch; counts as activity. */
export function storeRendition(store: AnnounceStore, row: StreamRow, now: number, a: RenditionAnnounce): AnnounceAck {
  store.upsertRendition(a.epoch, a.rendition);
  store.updateStream({ last_activity_at: now });
  return { status: row.status as StreamStatus, epoch: row.epoch };
}

/**
 * Indexes stored segments (idempotent for a retried announce: same msn, epoch and file is skipped,
 * a different file is `conflict`) and raises the target duration; counts as activity.
 */
export function storeSegments(store: AnnounceStore, row: StreamRow, now: number, a: SegmentAnnounce): AnnounceAck & { stored: number } {
  let stored = 0;
  let targetDuration = row.target_duration;
  for (const s of a.segments) {
    const rendition = store.rendition(s.rendition);
    if (!rendition || rendition.epoch !== a.epoch) {
      throw new EdgeliveError('conflict', `rendition ${s.rendition} has no init segment announced in epoch ${a.epoch}`);
    }
    const existing = store.segment(s.rendition, s.msn);
    if (existing) {
      if (existing.epoch === a.epoch && existing.file === s.file) continue;
      throw new EdgeliveError('conflict', `segment ${s.msn} of ${s.rendition} is already stored by epoch ${existing.epoch}`);
    }
    store.insertSegment({ ...s, epoch: a.epoch, initFile: rendition.init_file });
    targetDuration = Math.max(targetDuration, Math.round(s.duration));
    stored++;
  }
  // Target duration never shrinks (RFC 8216bis §6.2.1: it must not change during a stream).
  store.updateStream({ last_activity_at: now, target_duration: targetDuration });
  return { status: row.status as StreamStatus, epoch: row.epoch, stored };
}

/** Keeps the transcoder's ingest metrics; counts as activity. */
export function storeHeartbeat(store: AnnounceStore, row: StreamRow, now: number, a: HeartbeatAnnounce): AnnounceAck {
  store.updateStream({ last_activity_at: now, last_heartbeat_at: now, metrics: JSON.stringify(a.metrics) });
  return { status: row.status as StreamStatus, epoch: row.epoch };
}
