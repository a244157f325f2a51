import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import type { Ladder } from '../../../shared/src/types.ts';
import { ADDED_COLUMNS, STREAM_SCHEMA, type EventRow, type RenditionRow, type SegmentRow, type StreamRow } from './stream-schema.ts';

/** Values of a new stream's row. */
export interface NewStream {
  id: string;
  name: string | null;
  keyHash: string;
  ladder: Ladder;
  lowLatency: boolean;
  /** LL-HLS part target, seconds. */
  partSeconds: number;
  dvrWindowSeconds: number;
  segmentSeconds: number;
  reconnectWindowSeconds: number;
  /** Absent: public. */
  playbackPolicy?: PlaybackPolicy;
  createdAt: number;
}

/** A segment row to store, already checked and placed by `appendSegments`. */
export interface NewSegment {
  rendition: string;
  msn: number;
  epoch: number;
  duration: number;
  programDateTime: number;
  file: string;
  initFile: string;
  bytes: number;
  /** A timeline break precedes it (its epoch differs from the previous row's). */
  discontinuity: boolean;
  /** Listed as EXT-X-GAP: no media behind it. */
  gap: boolean;
  /** Wall clock of decode time 0 of its encoder run (DASH timelines); absent from gap rows and older origins. */
  timelineOrigin?: number | undefined;
  /** Wall clock where its run of consecutive stored segments of one encoder run began (DASH Periods); absent from gap rows. */
  runStart?: number | undefined;
}

/** Observers of the segment index, called inside the write that changes it (recordings, retention). */
export interface SegmentIndexHooks {
  /** A row was stored. */
  segmentInserted?(s: NewSegment): void;
  /** These rows are about to be pruned from the index. */
  segmentsPruning?(rows: readonly SegmentRow[]): void;
}

/** The SQL behind one StreamDO: reads and writes, no policy (the StreamDO decides what may happen). */
export class StreamStore {
  readonly #sql: SqlStorage;
  #ready = false;
  readonly #hooks: SegmentIndexHooks;

  constructor(sql: SqlStorage, hooks: SegmentIndexHooks = {}) {
    this.#sql = sql;
    this.#hooks = hooks;
  }

  /** Creates the tables if they are missing and adds columns older objects lack. */
  /** Whether this object's storage holds a stream schema (an object created for a made-up id holds none). */
  hasSchema(): boolean {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'stream'").one().n > 0;
  }

  /** After `deleteAll`: the object is empty again and reads find no stream. */
  forget(): void {
    this.#ready = false;
  }

  migrate(defaults: { reconnectWindowSeconds: number }): void {
    this.#ready = true;
    this.#sql.exec(STREAM_SCHEMA);
    for (const { table, column, definition } of ADDED_COLUMNS) {
      const columns = this.#sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray();
      if (columns.some((c) => c.name === column)) continue;
      const ddl = definition.replace('{window}', String(Math.trunc(defaults.reconnectWindowSeconds)));
      this.#sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${ddl}`);
    }
  }

  /** The stream row, or null before `create`. */
  stream(): StreamRow | null {
    // An object without a schema never held a stream (or was purged): nothing to read, nothing written.
    if (!this.#ready) return null;
    return this.#sql.exec<StreamRow>('SELECT * FROM stream WHERE singleton = 1').toArray()[0] ?? null;
  }

  /** Inserts the stream row. */
  insertStream(s: NewStream): void {
    this.#sql.exec(
      `INSERT INTO stream (singleton, id, name, status, key_hash, ladder, low_latency, dvr_window_seconds, segment_seconds,
         target_duration, reconnect_window_seconds, created_at, part_seconds, playback_policy) VALUES (1, ?, ?, 'idle', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.id,
      s.name,
      s.keyHash,
      JSON.stringify(s.ladder),
      s.lowLatency ? 1 : 0,
      s.dvrWindowSeconds,
      s.segmentSeconds,
      Math.ceil(s.segmentSeconds),
      s.reconnectWindowSeconds,
      s.createdAt,
      s.partSeconds,
      s.playbackPolicy ?? 'public',
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

  /** The last segment row of a rendition (by primary key), or null before its first. */
  lastSegment(rendition: string): SegmentRow | null {
    return this.#sql.exec<SegmentRow>('SELECT * FROM segments WHERE rendition = ? ORDER BY msn DESC LIMIT 1', rendition).toArray()[0] ?? null;
  }

  /** Stores a segment row; a stored (non-gap) segment also adds to its rendition's totals. */
  insertSegment(s: NewSegment): void {
    this.#sql.exec(
      `INSERT INTO segments (rendition, msn, epoch, duration, program_date_time, file, init_file, bytes, discontinuity, gap, timeline_origin, run_start)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.rendition,
      s.msn,
      s.epoch,
      s.duration,
      s.programDateTime,
      s.file,
      s.initFile,
      s.bytes,
      s.discontinuity ? 1 : 0,
      s.gap ? 1 : 0,
      s.timelineOrigin ?? null,
      s.runStart ?? null,
    );
    this.#hooks.segmentInserted?.(s);
    if (s.gap) return;
    this.#sql.exec(
      `UPDATE renditions SET segment_count = segment_count + 1, total_bytes = total_bytes + ?,
         total_duration = total_duration + ?, peak_bps = MAX(peak_bps, ?) WHERE name = ?`,
      s.bytes,
      s.duration,
      (s.bytes * 8) / s.duration,
      s.rendition,
    );
  }

  /**
   * Deletes a rendition's rows below `msn`, adding the discontinuities they carried to the
   * rendition's pruned count. Only the rows that just slid out exist below `msn`, so both
   * statements touch a handful of rows on the primary key, however old the stream is.
   */
  pruneSegmentsBefore(rendition: string, msn: number): number {
    if (this.#hooks.segmentsPruning) {
      this.#hooks.segmentsPruning(this.#sql.exec<SegmentRow>('SELECT * FROM segments WHERE rendition = ? AND msn < ?', rendition, msn).toArray());
    }
    const { n } = this.#sql
      .exec<{ n: number }>('SELECT COUNT(*) AS n FROM segments WHERE rendition = ? AND msn < ? AND discontinuity = 1', rendition, msn)
      .one();
    if (n > 0) this.#sql.exec('UPDATE renditions SET pruned_discontinuities = pruned_discontinuities + ? WHERE name = ?', n, rendition);
    return this.#sql.exec('DELETE FROM segments WHERE rendition = ? AND msn < ?', rendition, msn).rowsWritten;
  }

  /** One past the highest segment row of any rendition (each a MAX on its primary key), or 0. */
  nextMsn(): number {
    let next = 0;
    for (const { name } of this.#sql.exec<{ name: string }>('SELECT name FROM renditions').toArray()) {
      const { top } = this.#sql.exec<{ top: number | null }>('SELECT MAX(msn) AS top FROM segments WHERE rendition = ?', name).one();
      if (top !== null) next = Math.max(next, top + 1);
    }
    return next;
  }

  /** Whether the index lists this segment (a primary-key lookup). */
  hasSegment(rendition: string, msn: number): boolean {
    return this.#sql.exec('SELECT 1 FROM segments WHERE rendition = ? AND msn = ?', rendition, msn).toArray().length > 0;
  }

  /** Whether the index lists a segment of this rendition and epoch (a range over the bounded rows). */
  usesEpoch(rendition: string, epoch: number): boolean {
    return this.#sql.exec('SELECT 1 FROM segments WHERE rendition = ? AND epoch = ? LIMIT 1', rendition, epoch).toArray().length > 0;
  }

  /** Every row of the index (bounded: the window + 2 per rendition). */
  segmentRows(): SegmentRow[] {
    return this.#sql.exec<SegmentRow>('SELECT * FROM segments').toArray();
  }

  /** The last `limit` segments of a rendition, oldest first. */
  segmentWindow(rendition: string, limit: number): SegmentRow[] {
    return this.#sql
      .exec<SegmentRow>('SELECT * FROM segments WHERE rendition = ? ORDER BY msn DESC LIMIT ?', rendition, limit)
      .toArray()
      .reverse();
  }

  /**
   * Discontinuities at or before `msn` (RFC 8216bis §4.4.3.3 for a window starting at `msn`): those
   * pruned from the index plus those still in it, which are at most the bounded rows kept.
   */
  discontinuitiesThrough(rendition: string, msn: number): number {
    return this.#sql
      .exec<{ n: number }>(
        `SELECT COALESCE((SELECT pruned_discontinuities FROM renditions WHERE name = ?), 0)
           + (SELECT COUNT(*) FROM segments WHERE rendition = ? AND discontinuity = 1 AND msn <= ?) AS n`,
        rendition,
        rendition,
        msn,
      )
      .one().n;
  }

  /** Rows in the segment index and the event log (the soak test watches them stay flat). */
  rowCounts(): { segmentRows: number; eventRows: number } {
    return this.#sql
      .exec<{ segmentRows: number; eventRows: number }>('SELECT (SELECT COUNT(*) FROM segments) AS segmentRows, (SELECT COUNT(*) FROM events) AS eventRows')
      .one();
  }
}
