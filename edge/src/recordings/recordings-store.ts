import { RECORDINGS_SCHEMA, type MediaSettingsRow, type RecordingRow, type RecordingSegmentRow, type RecordingStatus } from './recordings-schema.ts';

/** An object waiting in `media_purge`. */
export interface PurgeEntry extends Record<string, SqlStorageValue> {
  key: string;
  bytes: number;
}

/** The SQL behind DVR retention, recordings and storage accounting in one StreamDO; no policy. */
export class RecordingsStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Creates the tables if they are missing; streams created before them get `record` off and `retentionSeconds`. */
  migrate(defaults: { retentionSeconds: number }): void {
    this.#sql.exec(RECORDINGS_SCHEMA);
    this.#sql.exec('INSERT OR IGNORE INTO media_settings (singleton, retention_seconds) VALUES (1, ?)', defaults.retentionSeconds);
  }

  /** The stream's recording settings and storage counters. */
  settings(): MediaSettingsRow {
    return this.#sql.exec<MediaSettingsRow>('SELECT * FROM media_settings WHERE singleton = 1').one();
  }

  /** Sets whether sessions are recorded and how long recordings are kept. */
  configure(record: boolean, retentionSeconds: number): void {
    this.#sql.exec('UPDATE media_settings SET record = ?, retention_seconds = ? WHERE singleton = 1', record ? 1 : 0, retentionSeconds);
  }

  /** Adds (or, negative, takes off) bytes of stored segment objects. */
  addStoredBytes(bytes: number): void {
    this.#sql.exec('UPDATE media_settings SET stored_bytes = MAX(0, stored_bytes + ?) WHERE singleton = 1', bytes);
  }

  /** Counts objects deleted from storage. */
  addPurgedObjects(n: number): void {
    this.#sql.exec('UPDATE media_settings SET purged_objects = purged_objects + ? WHERE singleton = 1', n);
  }

  markFinalWindowReleased(): void {
    this.#sql.exec('UPDATE media_settings SET final_window_released = 1 WHERE singleton = 1');
  }

  setCurrentRecording(id: string | null): void {
    this.#sql.exec('UPDATE media_settings SET current_recording = ? WHERE singleton = 1', id);
  }

  insertRecording(r: { id: string; startedAt: number; firstEpoch: number; durationRendition: string }): void {
    this.#sql.exec(
      `INSERT INTO recordings (id, status, started_at, first_epoch, duration_rendition) VALUES (?, 'recording', ?, ?, ?)`,
      r.id,
      r.startedAt,
      r.firstEpoch,
      r.durationRendition,
    );
  }

  recording(id: string): RecordingRow | null {
    return this.#sql.exec<RecordingRow>('SELECT * FROM recordings WHERE id = ?', id).toArray()[0] ?? null;
  }

  /** Every recording, newest first (a stream has one per live session: a handful of rows). */
  recordings(): RecordingRow[] {
    return this.#sql.exec<RecordingRow>('SELECT * FROM recordings ORDER BY started_at DESC, id').toArray();
  }

  /** Ends a recording: ready, kept until `expiresAt`. */
  finishRecording(id: string, endedAt: number, expiresAt: number): void {
    this.#sql.exec(`UPDATE recordings SET status = 'ready', ended_at = ?, expires_at = ? WHERE id = ? AND status = 'recording'`, endedAt, expiresAt, id);
  }

  /** Marks a recording deleted (by the API or by expiry); the alarm purges it. */
  markRecordingDeleted(id: string, reason: 'deleted' | 'expired', now: number): void {
    this.#sql.exec(`UPDATE recordings SET status = 'deleted', delete_reason = ?, expires_at = ? WHERE id = ?`, reason, now, id);
  }

  /** Ready recordings whose retention ran out at `now` (an index range on `expires_at`). */
  expiredRecordings(now: number): RecordingRow[] {
    return this.#sql.exec<RecordingRow>(`SELECT * FROM recordings WHERE expires_at IS NOT NULL AND expires_at <= ? AND status = 'ready'`, now).toArray();
  }

  /** Recordings being purged. */
  deletedRecordings(): RecordingRow[] {
    return this.#sql.exec<RecordingRow>(`SELECT * FROM recordings WHERE status = 'deleted'`).toArray();
  }

  /** The earliest expiry of a ready recording, or null. */
  nextExpiry(): number | null {
    return this.#sql.exec<{ at: number | null }>(`SELECT MIN(expires_at) AS at FROM recordings WHERE expires_at IS NOT NULL AND status = 'ready'`).one().at;
  }

  /**
   * Keeps a segment the live index just stored in a recording: a copy of its row (two primary-key
   * operations), plus the recording's running totals.
   */
  recordSegment(recordingId: string, s: { rendition: string; msn: number; bytes: number; duration: number }): void {
    this.#sql.exec(
      `INSERT OR IGNORE INTO recording_segments (rendition, msn, recording_id, epoch, duration, program_date_time, file, init_file, bytes, discontinuity, gap)
       SELECT rendition, msn, ?, epoch, duration, program_date_time, file, init_file, bytes, discontinuity, gap FROM segments WHERE rendition = ? AND msn = ?`,
      recordingId,
      s.rendition,
      s.msn,
    );
    this.#sql.exec(
      `UPDATE recordings SET bytes = bytes + ?, segments = segments + 1,
         duration = duration + CASE WHEN duration_rendition = ? THEN ? ELSE 0 END WHERE id = ?`,
      s.bytes,
      s.rendition,
      s.duration,
      recordingId,
    );
  }

  /** True when a recording keeps this segment (a primary-key lookup). */
  isRecorded(rendition: string, msn: number): boolean {
    return this.#sql.exec('SELECT 1 FROM recording_segments WHERE rendition = ? AND msn = ?', rendition, msn).toArray().length > 0;
  }

  /** Whether any recording decodes with this init (once per ended stream: a range over the rendition's rows). */
  recordingUsesInit(rendition: string, initFile: string): boolean {
    return this.#sql.exec('SELECT 1 FROM recording_segments WHERE rendition = ? AND init_file = ? LIMIT 1', rendition, initFile).toArray().length > 0;
  }

  /** A recording's segments of one rendition, in order (an index range). */
  recordingSegments(recordingId: string, rendition: string): RecordingSegmentRow[] {
    return this.#sql.exec<RecordingSegmentRow>('SELECT * FROM recording_segments WHERE recording_id = ? AND rendition = ? ORDER BY msn', recordingId, rendition).toArray();
  }

  /** The renditions a recording holds, with their epochs (one index scan of the recording's rows). */
  recordingRenditions(recordingId: string): { rendition: string; epochs: number[] }[] {
    const rows = this.#sql
      .exec<{ rendition: string; epoch: number }>('SELECT DISTINCT rendition, epoch FROM recording_segments WHERE recording_id = ? ORDER BY rendition, epoch', recordingId)
      .toArray();
    const byRendition = new Map<string, number[]>();
    for (const r of rows) byRendition.set(r.rendition, [...(byRendition.get(r.rendition) ?? []), r.epoch]);
    return [...byRendition].map(([rendition, epochs]) => ({ rendition, epochs }));
  }

  /** Up to `limit` of a recording's segment rows, for the purge. */
  recordingSegmentBatch(recordingId: string, limit: number): RecordingSegmentRow[] {
    return this.#sql.exec<RecordingSegmentRow>('SELECT * FROM recording_segments WHERE recording_id = ? LIMIT ?', recordingId, limit).toArray();
  }

  deleteRecordingSegment(rendition: string, msn: number): void {
    this.#sql.exec('DELETE FROM recording_segments WHERE rendition = ? AND msn = ?', rendition, msn);
  }

  deleteRecording(id: string): void {
    this.#sql.exec('DELETE FROM recordings WHERE id = ?', id);
  }

  /** Queues an object for deletion from storage at `dueAt`. */
  queuePurge(key: string, bytes: number, dueAt: number): void {
    this.#sql.exec('INSERT OR IGNORE INTO media_purge (key, bytes, due_at) VALUES (?, ?, ?)', key, bytes, dueAt);
  }

  /** Queued objects due by `until`, oldest first (an index range). */
  duePurges(until: number, limit: number): PurgeEntry[] {
    return this.#sql.exec<PurgeEntry>('SELECT key, bytes FROM media_purge WHERE due_at <= ? ORDER BY due_at LIMIT ?', until, limit).toArray();
  }

  /** When the oldest queued object is due, or null. */
  nextPurgeDue(): number | null {
    return this.#sql.exec<{ at: number | null }>('SELECT MIN(due_at) AS at FROM media_purge').one().at;
  }

  /** Moves queued objects to a later due time (a failed delete). */
  deferPurges(keys: readonly string[], dueAt: number): void {
    for (const key of keys) this.#sql.exec('UPDATE media_purge SET due_at = ? WHERE key = ?', dueAt, key);
  }

  removePurged(keys: readonly string[]): void {
    for (const key of keys) this.#sql.exec('DELETE FROM media_purge WHERE key = ?', key);
  }

  /** Rows per table (tests and the API's accounting). */
  rowCounts(): { recordingSegmentRows: number; purgeQueueRows: number } {
    return this.#sql
      .exec<{ recordingSegmentRows: number; purgeQueueRows: number }>(
        'SELECT (SELECT COUNT(*) FROM recording_segments) AS recordingSegmentRows, (SELECT COUNT(*) FROM media_purge) AS purgeQueueRows',
      )
      .one();
  }
}
