import type { Ladder } from '../../../shared/src/types.ts';
import { STREAM_SCHEMA, type EventRow, type RenditionRow, type SegmentRow, type StreamRow } from './stream-schema.ts';

/** Values of a new stream's row. */
export interface NewStream {
  id: string;
  name: string | null;
  keyHash: string;
  ladder: Ladder;
  lowLatency: boolean;
  dvrWindowSeconds: number;
  segmentSeconds: number;
  createdAt: number;
}

/** A segment to store, already checked against its rendition. */
export interface NewSegment {
  rendition: string;
  msn: number;
  epoch: number;
  duration: number;
  programDateTime: number;
  file: string;
  initFile: string;
  bytes: number;
}

/** The SQL behind one StreamDO: reads and writes, no policy (the StreamDO decides what may happen). */
export class StreamStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Creates the tables if they are missing. */
  migrate(): void {
    this.#sql.exec(STREAM_SCHEMA);
  }

  /** The stream row, or null before `create`. */
  stream(): StreamRow | null {
    return this.#sql.exec<StreamRow>('SELECT * FROM stream WHERE singleton = 1').toArray()[0] ?? null;
  }

  /** Inserts the stream row. */
  insertStream(s: NewStream): void {
    this.#sql.exec(
      `INSERT INTO stream (singleton, id, name, status, key_hash, ladder, low_latency, dvr_window_seconds, segment_seconds,
         target_duration, created_at) VALUES (1, ?, ?, 'idle', ?, ?, ?, ?, ?, ?, ?)`,
      s.id,
      s.name,
      s.keyHash,
      JSON.stringify(s.ladder),
      s.lowLatency ? 1 : 0,
      s.dvrWindowSeconds,
      s.segmentSeconds,
      Math.ceil(s.segmentSeconds),
      s.createdAt,
    );
  }

  /** Updates columns of the stream row; keys are column names of StreamRow. */
  updateStream(changes: Partial<StreamRow>): void {
    const keys = Object.keys(changes);
    if (keys.length === 0) return;
    const assignments = keys.map((k) => `${k} = ?`).join(', ');
    this.#sql.exec(`UPDATE stream SET ${assignments} WHERE singleton = 1`, ...keys.map((k) => changes[k] ?? null));
  }

  /** Marks a change the registry has not seen yet. */
  bumpRegistryVersion(): void {
    this.#sql.exec('UPDATE stream SET registry_version = registry_version + 1 WHERE singleton = 1');
  }

  /** Appends an event and returns it; `seq` grows monotonically (AUTOINCREMENT never reuses one). */
  appendEvent(ts: number, type: string, data: Record<string, unknown>): { seq: number; ts: number; type: string; data: Record<string, unknown> } {
    const { seq } = this.#sql.exec<{ seq: number }>('INSERT INTO events (ts, type, data) VALUES (?, ?, ?) RETURNING seq', ts, type, JSON.stringify(data)).one();
    return { seq, ts, type, data };
  }

  /** Deletes events older than `before`; returns how many. */
  pruneEvents(before: number): number {
    return this.#sql.exec('DELETE FROM events WHERE ts < ?', before).rowsWritten;
  }

  /** Timestamp of the oldest kept event, or null. */
  oldestEventTs(): number | null {
    return this.#sql.exec<{ ts: number | null }>('SELECT MIN(ts) AS ts FROM events').one().ts;
  }

  /** Events after `since`, oldest first. */
  events(since: number, limit: number): EventRow[] {
    return this.#sql.exec<EventRow>('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?', since, limit).toArray();
  }

  /** Every rendition, tallest first. */
  renditions(): RenditionRow[] {
    return this.#sql.exec<RenditionRow>('SELECT * FROM renditions ORDER BY height DESC, declared_bandwidth DESC, name').toArray();
  }

  /** One rendition, or null. */
  rendition(name: string): RenditionRow | null {
    return this.#sql.exec<RenditionRow>('SELECT * FROM renditions WHERE name = ?', name).toArray()[0] ?? null;
  }

  /** Creates or refreshes a rendition for an epoch; measured totals carry over. */
  upsertRendition(epoch: number, r: { name: string; width: number; height: number; codecs: string; frameRate: number; declaredBandwidth: number; initFile: string }): void {
    this.#sql.exec(
      `INSERT INTO renditions (name, epoch, width, height, codecs, frame_rate, declared_bandwidth, init_file)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch, width = excluded.width, height = excluded.height,
         codecs = excluded.codecs, frame_rate = excluded.frame_rate, declared_bandwidth = excluded.declared_bandwidth,
         init_file = excluded.init_file`,
      r.name,
      epoch,
      r.width,
      r.height,
      r.codecs,
      r.frameRate,
      r.declaredBandwidth,
      r.initFile,
    );
  }

  /** A stored segment, or null. */
  segment(rendition: string, msn: number): SegmentRow | null {
    return this.#sql.exec<SegmentRow>('SELECT * FROM segments WHERE rendition = ? AND msn = ?', rendition, msn).toArray()[0] ?? null;
  }

  /** Stores a segment and adds it to its rendition's totals; returns whether it opened a discontinuity. */
  insertSegment(s: NewSegment): boolean {
    // A new epoch's first segment follows a timeline break when an earlier epoch left segments.
    const counts = this.#sql
      .exec<{ same: number; earlier: number }>(
        `SELECT COALESCE(SUM(epoch = ?), 0) AS same, COALESCE(SUM(epoch < ?), 0) AS earlier FROM segments WHERE rendition = ?`,
        s.epoch,
        s.epoch,
        s.rendition,
      )
      .one();
    const discontinuity = counts.same === 0 && counts.earlier > 0;
    this.#sql.exec(
      `INSERT INTO segments (rendition, msn, epoch, duration, program_date_time, file, init_file, bytes, discontinuity)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.rendition,
      s.msn,
      s.epoch,
      s.duration,
      s.programDateTime,
      s.file,
      s.initFile,
      s.bytes,
      discontinuity ? 1 : 0,
    );
    this.#sql.exec(
      `UPDATE renditions SET segment_count = segment_count + 1, total_bytes = total_bytes + ?,
         total_duration = total_duration + ?, peak_bps = MAX(peak_bps, ?) WHERE name = ?`,
      s.bytes,
      s.duration,
      (s.bytes * 8) / s.duration,
      s.rendition,
    );
    return discontinuity;
  }

  /** The media sequence number the next epoch starts at: one past the highest stored. */
  nextMsn(): number {
    return this.#sql.exec<{ next: number }>('SELECT COALESCE(MAX(msn) + 1, 0) AS next FROM segments').one().next;
  }

  /** The last `limit` segments of a rendition, oldest first. */
  segmentWindow(rendition: string, limit: number): SegmentRow[] {
    return this.#sql
      .exec<SegmentRow>('SELECT * FROM segments WHERE rendition = ? ORDER BY msn DESC LIMIT ?', rendition, limit)
      .toArray()
      .reverse();
  }

  /** Discontinuities at or before `msn` (RFC 8216bis §4.4.3.3 for a window starting at `msn`). */
  discontinuitiesThrough(rendition: string, msn: number): number {
    return this.#sql
      .exec<{ n: number }>('SELECT COUNT(*) AS n FROM segments WHERE rendition = ? AND discontinuity = 1 AND msn <= ?', rendition, msn)
      .one().n;
  }
}
