import type { SegmentRow } from '../stream-do/stream-schema.ts';

/** SQLite tables a StreamDO adds for DVR retention, recordings and storage accounting, and their row shapes. */

/**
 * DDL run in the StreamDO's constructor after the stream schema; `IF NOT EXISTS` makes it safe on
 * every start. Every statement on these tables is a primary-key lookup or a range on an index, so
 * their cost does not grow with the stream's age or a recording's length.
 */
export const RECORDINGS_SCHEMA = `
CREATE TABLE IF NOT EXISTS media_settings (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  record INTEGER NOT NULL DEFAULT 0,
  retention_seconds INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL DEFAULT 0,
  purged_objects INTEGER NOT NULL DEFAULT 0,
  current_recording TEXT,
  final_window_released INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS recordings (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  expires_at INTEGER,
  first_epoch INTEGER NOT NULL,
  duration REAL NOT NULL DEFAULT 0,
  duration_rendition TEXT NOT NULL,
  bytes INTEGER NOT NULL DEFAULT 0,
  segments INTEGER NOT NULL DEFAULT 0,
  delete_reason TEXT
);
CREATE INDEX IF NOT EXISTS recordings_by_expiry ON recordings (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS recording_segments (
  rendition TEXT NOT NULL,
  msn INTEGER NOT NULL,
  recording_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  duration REAL NOT NULL,
  program_date_time INTEGER NOT NULL,
  file TEXT NOT NULL,
  init_file TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  discontinuity INTEGER NOT NULL,
  gap INTEGER NOT NULL,
  PRIMARY KEY (rendition, msn)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS recording_segments_by_recording ON recording_segments (recording_id, rendition, msn);
CREATE TABLE IF NOT EXISTS media_purge (
  key TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  due_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS media_purge_by_due ON media_purge (due_at);
`;

/** Lifecycle of a recording: being made, finished and playable, deleted and waiting for the purge. */
export type RecordingStatus = 'recording' | 'ready' | 'deleted';

/** The single `media_settings` row. */
export interface MediaSettingsRow extends Record<string, SqlStorageValue> {
  record: number;
  retention_seconds: number;
  /** Bytes of the stream's segment objects now in storage (added when announced, taken off when purged). */
  stored_bytes: number;
  purged_objects: number;
  current_recording: string | null;
  /** 1 once an ended stream's final window was queued for deletion (it is no longer served). */
  final_window_released: number;
}

/** One `recordings` row. */
export interface RecordingRow extends Record<string, SqlStorageValue> {
  id: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  expires_at: number | null;
  first_epoch: number;
  /** Seconds of media in `duration_rendition` (the first rendition recorded). */
  duration: number;
  duration_rendition: string;
  bytes: number;
  segments: number;
  delete_reason: string | null;
}

/** One `recording_segments` row: a segment the recording keeps past the live index (the index row's columns and its recording). */
export type RecordingSegmentRow = SegmentRow & { recording_id: string };
