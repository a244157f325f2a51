/**
 * Recordings, DVR retention and storage accounting of one stream, beside the segment index: every
 * segment the index appends is counted (and kept in the current recording when the stream records),
 * every segment that slides out of the index and no recording keeps is queued for deletion from
 * storage, and the alarm purges the queue and expired or deleted recordings. No policy here reads
 * more than a primary key or an index range per segment.
 */
import { mediaObjectKey, posterFileName, thumbnailObjectKey } from '../../../shared/src/internal-api.ts';
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import { servedAfterEndMs } from '../playback/render-playlists.ts';
import type { SegmentRow, StreamRow } from '../stream-do/stream-schema.ts';
import type { NewSegment } from '../stream-do/stream-store.ts';
import type { StreamWriter } from '../stream-do/stream-writer.ts';
import type { MediaDeleter } from './media-deleter.ts';
import type { RecordingRow } from './recordings-schema.ts';
import type { RecordingsStore } from './recordings-store.ts';

/** Objects a storage delete call carries at most (R2's and S3's limit). */
export const PURGE_BATCH = 1000;
/** Delete calls one alarm makes at most; the rest waits for the next alarm. */
export const PURGE_BATCHES_PER_ALARM = 5;
/**
 * Objects due within this long of the oldest due one are deleted in the same alarm, so a live
 * stream costs one purge (and one `media_purged` event) per this period, not one per segment.
 */
export const PURGE_COALESCE_MS = 30_000;
/** Wait before retrying a purge whose delete failed. */
const PURGE_RETRY_MS = 10_000;

/** What the recordings need from the StreamDO besides their own store. */
export interface RecordingsDeps {
  store: RecordingsStore;
  /** Whether the live index still lists a segment (a primary-key lookup on `segments`). */
  liveIndexHas(rendition: string, msn: number): boolean;
  /** Whether the live index still lists a segment of this rendition and epoch (the bounded index). */
  liveIndexUsesEpoch(rendition: string, epoch: number): boolean;
  /** Every row of the live index (bounded: the window + 2 per rendition). */
  liveIndexRows(): SegmentRow[];
  /** How long an ended stream keeps serving its final playlists (ENDED_RETENTION_SECONDS). */
  endedRetentionSeconds: number;
  deleter: MediaDeleter;
  /** How long a segment that slid out of the live index stays in storage (players may still fetch it). */
  purgeDelayMs: number;
  newId(): string;
  /** The stream row (for the alarm's next time). */
  stream(): StreamRow | null;
}

/** A recording as the management API shows it, before the Worker adds URLs. */
export interface RecordingView {
  id: string;
  status: RecordingRow['status'];
  startedAt: number;
  endedAt: number | null;
  expiresAt: number | null;
  durationSeconds: number;
  bytes: number;
  segments: number;
  renditions: string[];
  /** The epoch its poster (`poster-e<epoch>.jpg`) was made in. */
  firstEpoch: number;
  /** The stream's: a `signed` stream's recordings play only with one of its playback tokens. */
  playbackPolicy: PlaybackPolicy;
}

/** A recording row as JSON, under its stream's playback policy. */
export function recordingView(row: RecordingRow, renditions: string[], playbackPolicy: PlaybackPolicy): RecordingView {
  return {
    id: row.id,
    status: row.status,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    expiresAt: row.expires_at,
    durationSeconds: Math.round(row.duration * 1000) / 1000,
    bytes: row.bytes,
    segments: row.segments,
    renditions,
    firstEpoch: row.first_epoch,
    playbackPolicy,
  };
}

/** A stream's recordings and the retention of its media; one per StreamDO. */
export class StreamRecordings {
  readonly #d: RecordingsDeps;

  constructor(deps: RecordingsDeps) {
    this.#d = deps;
  }

  /** The segment index stored a row (inside its write): count its bytes, keep it in the current recording. */
  segmentInserted(s: NewSegment): void {
    const { store } = this.#d;
    if (!s.gap) store.addStoredBytes(s.bytes);
    const settings = store.settings();
    if (settings.record !== 1) return;
    let id = settings.current_recording;
    if (id === null) {
      id = this.#d.newId();
      store.insertRecording({ id, startedAt: s.programDateTime, firstEpoch: s.epoch, durationRendition: s.rendition });
      store.setCurrentRecording(id);
    }
    store.recordSegment(id, s);
  }

  /** Rows are sliding out of the live index (inside its write): queue those no recording keeps for deletion. */
  segmentsPruned(rows: readonly SegmentRow[], streamId: string, now: number): void {
    const { store } = this.#d;
    for (const row of rows) {
      if (row.gap === 1 || store.isRecorded(row.rendition, row.msn)) continue;
      store.queuePurge(mediaObjectKey(streamId, row.rendition, row.file), row.bytes, now + this.#d.purgeDelayMs);
    }
  }

  /** After a change of status: an ended (or deleted) stream's recording is finished, kept for the retention. */
  finishIfEnded(writer: StreamWriter, row: StreamRow, now: number): void {
    const { store } = this.#d;
    const settings = store.settings();
    const id = settings.current_recording;
    if (id === null || (row.status !== 'ended' && row.deleted_at === null)) return;
    writer.write((tx) => {
      const expiresAt = now + settings.retention_seconds * 1000;
      store.finishRecording(id, now, expiresAt);
      store.setCurrentRecording(null);
      const rec = store.recording(id);
      tx.event(now, 'recording_ready', { recordingId: id, durationSeconds: rec?.duration ?? 0, bytes: rec?.bytes ?? 0, expiresAt });
    });
  }

  /** DELETE of one recording: marked deleted at once (playback stops), purged by the alarm. */
  deleteRecording(writer: StreamWriter, id: string, now: number): RecordingRow | null {
    const { store } = this.#d;
    const rec = store.recording(id);
    if (!rec || rec.status === 'deleted') return rec;
    writer.write((tx) => {
      if (store.settings().current_recording === id) store.setCurrentRecording(null);
      store.markRecordingDeleted(id, 'deleted', now);
      tx.event(now, 'recording_deleted', { recordingId: id });
    });
    return store.recording(id);
  }

  /** The alarm's duty: expire recordings, purge deleted ones, delete due objects from storage. */
  async runAlarm(writer: StreamWriter, row: StreamRow, now: number): Promise<void> {
    const { store } = this.#d;
    for (const rec of store.expiredRecordings(now)) {
      writer.write((tx) => {
        store.markRecordingDeleted(rec.id, 'expired', now);
        tx.event(now, 'recording_expired', { recordingId: rec.id, expiredAt: rec.expires_at });
      });
    }
    for (const rec of store.deletedRecordings()) this.#releaseRecording(writer, row.id, rec, now);
    const gone = this.#finalWindowGoneAt(row);
    if (gone !== null && gone <= now) this.#releaseFinalWindow(row.id, now, row.epoch);
    await this.#purgeDue(writer, now);
  }

  /**
   * When an ended stream stops serving its final playlists (410 from then on): its final window's
   * objects are then no longer needed, unless a recording keeps them. Null when not ended, or done.
   */
  #finalWindowGoneAt(row: StreamRow): number | null {
    if (row.status !== 'ended' || row.ended_at === null || this.#d.store.settings().final_window_released === 1) return null;
    return row.ended_at + servedAfterEndMs(this.#d.endedRetentionSeconds, row.dvr_window_seconds);
  }

  /** Queues the ended stream's last index rows, inits and thumbnails no recording uses for deletion, once. */
  #releaseFinalWindow(streamId: string, now: number, lastEpoch: number): void {
    const { store } = this.#d;
    // The latest thumbnail, and every epoch's poster no recording shows.
    store.queuePurge(thumbnailObjectKey(streamId, 'latest.jpg'), 0, now);
    const posters = new Set(store.recordings().map((r) => r.first_epoch));
    for (let epoch = 1; epoch <= lastEpoch; epoch++) if (!posters.has(epoch)) store.queuePurge(thumbnailObjectKey(streamId, posterFileName(epoch)), 0, now);
    const inits = new Map<string, { rendition: string; file: string }>();
    for (const s of this.#d.liveIndexRows()) {
      if (store.isRecorded(s.rendition, s.msn)) continue;
      if (s.gap !== 1) store.queuePurge(mediaObjectKey(streamId, s.rendition, s.file), s.bytes, now);
      inits.set(`${s.rendition}/${s.init_file}`, { rendition: s.rendition, file: s.init_file });
    }
    // An init a recording still uses stays; the recording's own purge takes it.
    for (const { rendition, file } of inits.values()) {
      if (!store.recordingUsesInit(rendition, file)) store.queuePurge(mediaObjectKey(streamId, rendition, file), 0, now);
    }
    store.markFinalWindowReleased();
  }

  /**
   * True once an ended stream's final window was released (its playlists answer 410), no recording
   * is left and no object waits in the purge queue: nothing here needs the stream's storage.
   */
  holdsNothing(): boolean {
    const { store } = this.#d;
    return store.settings().final_window_released === 1 && store.recordings().length === 0 && store.nextPurgeDue() === null;
  }

  /** When the alarm is next needed for recordings and retention, or null. */
  nextAlarmAt(now: number): number | null {
    const { store } = this.#d;
    const due: number[] = [];
    const purge = store.nextPurgeDue();
    if (purge !== null) due.push(purge);
    const expiry = store.nextExpiry();
    if (expiry !== null) due.push(expiry);
    if (store.deletedRecordings().length > 0) due.push(now);
    const row = this.#d.stream();
    const gone = row ? this.#finalWindowGoneAt(row) : null;
    if (gone !== null) due.push(gone);
    return due.length ? Math.max(now, Math.min(...due)) : null;
  }

  /**
   * Hands a deleted recording's objects to the purge queue, a batch of rows per alarm: segments the
   * live index no longer lists, then its init files and posters, then the row itself (one
   * `recording_purged` event).
   */
  #releaseRecording(writer: StreamWriter, streamId: string, rec: RecordingRow, now: number): void {
    const { store } = this.#d;
    writer.write((tx) => {
      const epochs = store.recordingRenditions(rec.id);
      const rows = store.recordingSegmentBatch(rec.id, PURGE_BATCH);
      for (const s of rows) {
        // Still in the DVR window: the live index's own pruning queues it once it slides out.
        if (s.gap !== 1 && !this.#d.liveIndexHas(s.rendition, s.msn)) store.queuePurge(mediaObjectKey(streamId, s.rendition, s.file), s.bytes, now);
        store.deleteRecordingSegment(s.rendition, s.msn);
      }
      if (rows.length === PURGE_BATCH) return; // more next alarm
      for (const { rendition, epochs: list } of epochs) {
        for (const epoch of list) {
          if (!this.#d.liveIndexUsesEpoch(rendition, epoch)) store.queuePurge(mediaObjectKey(streamId, rendition, `init-${epoch}.mp4`), 0, now);
        }
      }
      store.queuePurge(thumbnailObjectKey(streamId, posterFileName(rec.first_epoch)), 0, now);
      store.deleteRecording(rec.id);
      tx.event(now, 'recording_purged', { recordingId: rec.id, reason: rec.delete_reason ?? 'deleted', segments: rec.segments, bytes: rec.bytes });
    });
  }

  /** Deletes due objects from storage in batches; a failed delete leaves them queued for a later alarm. */
  async #purgeDue(writer: StreamWriter, now: number): Promise<void> {
    const { store, deleter } = this.#d;
    let objects = 0;
    let bytes = 0;
    for (let i = 0; i < PURGE_BATCHES_PER_ALARM; i++) {
      const batch = store.duePurges(now + PURGE_COALESCE_MS, PURGE_BATCH);
      if (batch.length === 0) break;
      const oldest = store.nextPurgeDue();
      if (i === 0 && oldest !== null && oldest > now) return; // nothing due yet
      try {
        await deleter.delete(batch.map((e) => e.key));
      } catch (err) {
        console.error(`media purge of ${batch.length} objects failed; retrying from the alarm`, err);
        store.deferPurges(batch.map((e) => e.key), now + PURGE_RETRY_MS);
        break;
      }
      const freed = batch.reduce((sum, e) => sum + e.bytes, 0);
      store.removePurged(batch.map((e) => e.key));
      store.addStoredBytes(-freed);
      store.addPurgedObjects(batch.length);
      objects += batch.length;
      bytes += freed;
      if (batch.length < PURGE_BATCH) break;
    }
    if (objects > 0) writer.write((tx) => tx.event(now, 'media_purged', { objects, bytes }));
  }
}
