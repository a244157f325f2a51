/** Shapes StreamDO rows into the JSON the management API and playlists use. Pure. */
import type { QoeSummary, SnapshotBody, ViewerCounts } from '../../../shared/src/feed/feed-messages.ts';
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import type { IngestMetrics, Ladder, SegmentInfo, SourceInfo, StreamStatus } from '../../../shared/src/types.ts';
import { windowDeadline } from './stream-lifecycle.ts';
import type { EventRow, RenditionRow, SegmentRow, StreamRow } from './stream-schema.ts';

/** Why the stream last failed, kept until the next failure. */
export interface LastError {
  reason: string;
  message: string;
  at: number;
}

/** A rendition as the management API and the master playlist see it. */
export interface RenditionView {
  name: string;
  width: number;
  height: number;
  codecs: string;
  frameRate: number;
  /** Peak bit/s: the larger of the measured peak and what the ladder declared. */
  bandwidth: number;
  /** Measured average bit/s, or the declared bandwidth before any segment. */
  averageBandwidth: number;
  segments: number;
}

/** The StreamDO's view of its stream (`GET /v1/streams/:id`, timestamps in ms since epoch). */
export interface StreamView {
  id: string;
  name: string | null;
  status: StreamStatus;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  ladder: Ladder;
  lowLatency: boolean;
  /** LL-HLS part target, seconds (used only with `lowLatency`). */
  partSeconds: number;
  dvrWindowSeconds: number;
  segmentSeconds: number;
  renditions: RenditionView[];
  ingest: { nodeId: string | null; lastHeartbeatAt: number | null; metrics: IngestMetrics | null; source: SourceInfo | null };
  /** Sessions seen within 3 target durations (`current`, per rendition), the peak and unique sessions. */
  viewers: ViewerCounts;
  /** Player QoE from beacons. */
  qoe: QoeSummary;
  epoch: number;
  lastError: LastError | null;
  /** Seconds a disconnected or failed stream waits for its publisher before it ends. */
  reconnectWindowSeconds: number;
  /** When the reconnect window of a `reconnecting` or `error` stream runs out, else null. */
  reconnectDeadline: number | null;
  /** `signed`: playback needs a token (`POST /v1/streams/:id/playback-tokens`). */
  playbackPolicy: PlaybackPolicy;
  /** Rows the StreamDO holds: the segment index stays bounded by the playlist or DVR window. */
  storage: { segmentRows: number; eventRows: number };
}

/** One entry of the stream's event log. */
export interface StreamEventView {
  seq: number;
  ts: number;
  type: string;
  data: Record<string, unknown>;
}

/** The row's playback policy; anything but `signed` is public. */
export function playbackPolicyOf(row: Pick<StreamRow, 'playback_policy'>): PlaybackPolicy {
  return row.playback_policy === 'signed' ? 'signed' : 'public';
}

function json<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** BANDWIDTH and AVERAGE-BANDWIDTH of a rendition (RFC 8216bis §4.4.6.2). */
export function renditionBandwidth(row: RenditionRow): { bandwidth: number; averageBandwidth: number } {
  const measuredAverage = row.total_duration > 0 ? (row.total_bytes * 8) / row.total_duration : 0;
  return {
    bandwidth: Math.round(Math.max(row.peak_bps, row.declared_bandwidth)),
    averageBandwidth: Math.round(row.segment_count > 0 ? measuredAverage : row.declared_bandwidth),
  };
}

/** A rendition row as JSON. */
export function renditionView(row: RenditionRow): RenditionView {
  return {
    name: row.name,
    width: row.width,
    height: row.height,
    codecs: row.codecs,
    frameRate: row.frame_rate,
    ...renditionBandwidth(row),
    segments: row.segment_count,
  };
}

/** The stream row and its renditions as JSON. */
export function streamView(
  row: StreamRow,
  renditions: readonly RenditionRow[],
  audience: { viewers: ViewerCounts; qoe: QoeSummary },
  storage: { segmentRows: number; eventRows: number },
): StreamView {
  return {
    id: row.id,
    name: row.name,
    status: row.status as StreamStatus,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    ladder: JSON.parse(row.ladder) as Ladder,
    lowLatency: row.low_latency === 1,
    partSeconds: row.part_seconds,
    dvrWindowSeconds: row.dvr_window_seconds,
    segmentSeconds: row.segment_seconds,
    renditions: renditions.map(renditionView),
    ingest: {
      nodeId: row.node_id,
      lastHeartbeatAt: row.last_heartbeat_at,
      metrics: json<IngestMetrics>(row.metrics),
      source: json<SourceInfo>(row.source),
    },
    viewers: audience.viewers,
    qoe: audience.qoe,
    epoch: row.epoch,
    lastError: json<LastError>(row.last_error),
    reconnectWindowSeconds: row.reconnect_window_seconds,
    reconnectDeadline: windowDeadline(row),
    playbackPolicy: playbackPolicyOf(row),
    storage,
  };
}

/** An event row as JSON. */
export function eventView(row: EventRow): StreamEventView {
  return { seq: row.seq, ts: row.ts, type: row.type, data: JSON.parse(row.data) as Record<string, unknown> };
}

/** A page of the event log (`GET /v1/streams/:id/events`): `hasMore` when the page came back full. */
export interface EventPage {
  events: StreamEventView[];
  /** The last seq returned, or `since` for an empty page: where the next page starts. */
  nextSince: number;
  hasMore: boolean;
}

/** The page of up to `limit` event rows read after `since`. */
export function eventPage(rows: readonly EventRow[], since: number, limit: number): EventPage {
  const events = rows.map(eventView);
  return { events, nextSince: events.length ? events[events.length - 1]!.seq : since, hasMore: events.length === limit };
}

/** A segment row in the shared SegmentInfo shape. */
export function segmentInfo(row: SegmentRow): SegmentInfo {
  return {
    msn: row.msn,
    duration: row.duration,
    programDateTime: row.program_date_time,
    file: row.file,
    initFile: row.init_file,
    bytes: row.bytes,
    discontinuity: row.discontinuity === 1,
    gap: row.gap === 1,
  };
}

/** The analytics feed's snapshot of the stream row and its audience. */
export function snapshotBody(row: StreamRow, audience: { viewers: ViewerCounts; qoe: QoeSummary }): SnapshotBody {
  const metrics = json<IngestMetrics>(row.metrics);
  return {
    status: row.status as StreamStatus,
    epoch: row.epoch,
    viewers: audience.viewers,
    ingest: metrics ? { ...metrics, lastHeartbeatAt: row.last_heartbeat_at } : null,
    qoe: audience.qoe,
    lastError: json<LastError>(row.last_error),
  };
}
