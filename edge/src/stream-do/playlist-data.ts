/** What the playlist routes read from a StreamDO: renditions for the master, a segment window per media playlist. */
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import type { SegmentInfo, StreamStatus } from '../../../shared/src/types.ts';
import { dvrRowsToRead, dvrWindow } from '../recordings/dvr-window.ts';
import { fail, ok, type DoResult } from './do-result.ts';
import type { LowLatencyData } from './low-latency-playlist.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import { playbackPolicyOf, renditionView, segmentInfo, type RenditionView } from './stream-view.ts';

/** The reads behind the playlists: a StreamStore, or an object literal in unit tests. */
export type PlaylistStore = Pick<StreamStore, 'renditions' | 'rendition' | 'segmentWindow' | 'discontinuitiesThrough'>;

/** What the master playlist route needs from the StreamDO. */
export interface MasterPlaylistData {
  status: StreamStatus;
  /** Travels with the playlist data, so the edge learns it from the cached playlist, never from an extra call. */
  playbackPolicy: PlaybackPolicy;
  endedAt: number | null;
  dvrWindowSeconds: number;
  renditions: RenditionView[];
}

/** What a media playlist route needs from the StreamDO. */
export interface MediaPlaylistData {
  status: StreamStatus;
  playbackPolicy: PlaybackPolicy;
  endedAt: number | null;
  dvrWindowSeconds: number;
  targetDuration: number;
  discontinuitySequence: number;
  segments: SegmentInfo[];
  /** LL-HLS parts, hint and rendition reports; absent when the stream has low latency off. */
  lowLatency?: LowLatencyData;
}

/** Renditions and status for the master playlist. */
export function masterPlaylistData(row: StreamRow, store: PlaylistStore): MasterPlaylistData {
  return { status: row.status as StreamStatus, playbackPolicy: playbackPolicyOf(row), endedAt: row.ended_at, dvrWindowSeconds: row.dvr_window_seconds, renditions: store.renditions().map(renditionView) };
}

/**
 * The last `windowSegments` segments of a rendition, or with a DVR window the newest rows holding up
 * to `dvrWindowSeconds` of media (a range on the primary key: the cost follows the window, not the
 * stream's age), and the header values; `not_found` for an unknown rendition.
 */
export function mediaPlaylistData(row: StreamRow, store: PlaylistStore, rendition: string, windowSegments: number): DoResult<MediaPlaylistData> {
  if (!store.rendition(rendition)) return fail('not_found', `stream ${row.id} has no rendition ${rendition}`);
  const dvr = row.dvr_window_seconds;
  const segments = dvrWindow(store.segmentWindow(rendition, dvrRowsToRead(windowSegments, dvr, row.segment_seconds)), dvr, windowSegments);
  const first = segments[0];
  return ok({
    status: row.status as StreamStatus,
    playbackPolicy: playbackPolicyOf(row),
    endedAt: row.ended_at,
    dvrWindowSeconds: row.dvr_window_seconds,
    targetDuration: row.target_duration,
    // RFC 8216bis §4.4.3.3: the discontinuities that slid out of the window before its first segment.
    discontinuitySequence: first ? store.discontinuitiesThrough(rendition, first.msn) : 0,
    segments: segments.map(segmentInfo),
  });
}
