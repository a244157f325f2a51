/** SQLite schema of one StreamDO and the row shapes read back from it. */

/** DDL run in the constructor; `IF NOT EXISTS` makes it safe on every start. */
export const STREAM_SCHEMA = `
CREATE TABLE IF NOT EXISTS stream (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  id TEXT NOT NULL,
  name TEXT,
  status TEXT NOT NULL,
  deleted_at INTEGER,
  key_hash TEXT NOT NULL,
  ladder TEXT NOT NULL,
  low_latency INTEGER NOT NULL,
  dvr_window_seconds INTEGER NOT NULL,
  segment_seconds REAL NOT NULL,
  target_duration INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  epoch INTEGER NOT NULL DEFAULT 0,
  node_id TEXT,
  source TEXT,
  metrics TEXT,
  last_heartbeat_at INTEGER,
  last_activity_at INTEGER,
  last_error TEXT,
  purge_pending INTEGER NOT NULL DEFAULT 0,
  registry_version INTEGER NOT NULL DEFAULT 0,
  registry_synced_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS renditions (
  name TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  codecs TEXT NOT NULL,
  frame_rate REAL NOT NULL,
  declared_bandwidth INTEGER NOT NULL,
  init_file TEXT NOT NULL,
  segment_count INTEGER NOT NULL DEFAULT 0,
  total_bytes INTEGER NOT NULL DEFAULT 0,
  total_duration REAL NOT NULL DEFAULT 0,
  peak_bps REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS segments (
  rendition TEXT NOT NULL,
  msn INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  duration REAL NOT NULL,
  program_date_time INTEGER NOT NULL,
  file TEXT NOT NULL,
  init_file TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  discontinuity INTEGER NOT NULL,
  PRIMARY KEY (rendition, msn)
) WITHOUT ROWID;
-- Nothing reads segments by epoch any more (discontinuities compare with the previous row).
DROP INDEX IF EXISTS segments_by_epoch;
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL
);
`;

/**
 * Columns added after the first schema. SQLite has no `ADD COLUMN IF NOT EXISTS`, so each is added
 * only when `PRAGMA table_info` lacks it: objects created before it upgrade on their next start,
 * new ones get it the same way. `{window}` is the edge's default reconnect window (a validated
 * integer), the value streams created before per-stream windows existed take.
 */
export const ADDED_COLUMNS: readonly { table: 'stream' | 'renditions' | 'segments'; column: string; definition: string }[] = [
  { table: 'stream', column: 'reconnect_window_seconds', definition: 'INTEGER NOT NULL DEFAULT {window}' },
  // The first media sequence number the next epoch may use (from an end's nextMsn).
  { table: 'stream', column: 'reserved_msn', definition: 'INTEGER NOT NULL DEFAULT 0' },
  // When the stream last left live (reconnecting or error): the start of its reconnect window.
  { table: 'stream', column: 'interrupted_at', definition: 'INTEGER' },
  // Discontinuities in segment rows pruned from the index (EXT-X-DISCONTINUITY-SEQUENCE).
  { table: 'renditions', column: 'pruned_discontinuities', definition: 'INTEGER NOT NULL DEFAULT 0' },
  { table: 'segments', column: 'gap', definition: 'INTEGER NOT NULL DEFAULT 0' },
  // Wall clock of decode time 0 of the segment's encoder run (DASH SegmentTimeline times); null for gaps.
  { table: 'segments', column: 'timeline_origin', definition: 'INTEGER' },
  // Wall clock where the row's run of consecutive stored segments of one encoder run began (a DASH Period).
  { table: 'segments', column: 'run_start', definition: 'INTEGER' },
  // LL-HLS part target in seconds (0.333 for streams created before it was a setting).
  { table: 'stream', column: 'part_seconds', definition: 'REAL NOT NULL DEFAULT 0.333' },
  // Playback policy, 'public' or 'signed' (streams created before it were public).
  { table: 'stream', column: 'playback_policy', definition: "TEXT NOT NULL DEFAULT 'public'" },
];

/** The single `stream` row. JSON columns hold serialised objects. */
export interface StreamRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string | null;
  status: string;
  deleted_at: number | null;
  key_hash: string;
  ladder: string;
  low_latency: number;
  dvr_window_seconds: number;
  segment_seconds: number;
  target_duration: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  epoch: number;
  node_id: string | null;
  source: string | null;
  metrics: string | null;
  last_heartbeat_at: number | null;
  last_activity_at: number | null;
  last_error: string | null;
  purge_pending: number;
  registry_version: number;
  registry_synced_version: number;
  reconnect_window_seconds: number;
  reserved_msn: number;
  interrupted_at: number | null;
  part_seconds: number;
  playback_policy: string;
}

/** One `renditions` row: what the master playlist advertises plus measured totals. */
export interface RenditionRow extends Record<string, SqlStorageValue> {
  name: string;
  epoch: number;
  width: number;
  height: number;
  codecs: string;
  frame_rate: number;
  declared_bandwidth: number;
  init_file: string;
  segment_count: number;
  total_bytes: number;
  total_duration: number;
  peak_bps: number;
  pruned_discontinuities: number;
}

/** One `segments` row. */
export interface SegmentRow extends Record<string, SqlStorageValue> {
  rendition: string;
  msn: number;
  epoch: number;
  duration: number;
  program_date_time: number;
  file: string;
  init_file: string;
  bytes: number;
  discontinuity: number;
  /** 1: listed as EXT-X-GAP (made but never stored, or skipped by the origin); no bytes behind it. */
  gap: number;
  /** Wall clock of decode time 0 of the segment's encoder run; null for gap rows and older rows. */
  timeline_origin: number | null;
  /** Wall clock where the row's run (a DASH Period) began; null for gap rows and older rows. */
  run_start: number | null;
}

/** One `events` row. */
export interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  ts: number;
  type: string;
  data: string;
}
