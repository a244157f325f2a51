/** What the VOD routes read from a StreamDO for a finished recording, and how it becomes playlists. Pure. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { renderMediaPlaylist } from '../../../shared/src/manifest/hls-media-playlist.ts';
import type { SegmentInfo } from '../../../shared/src/types.ts';
import { renderMaster } from '../playback/render-playlists.ts';
import { segmentInfo, type RenditionView } from '../stream-do/stream-view.ts';
import type { RecordingSegmentRow } from './recordings-schema.ts';

/** A recording's master playlist: the renditions it holds. */
export interface VodMasterData {
  renditions: RenditionView[];
  /** When the recording's retention runs out (ms since epoch). */
  expiresAt: number;
}

/** One segment of a recording as its media playlist lists it. */
export type VodSegment = SegmentInfo;

/** A recording's media playlist for one rendition: every segment, oldest first. */
export interface VodMediaData {
  segments: VodSegment[];
  expiresAt: number;
}

/** The objects of an MP4 download: per epoch (encoder run) of the recording, in order, its init and its media segments. */
export interface VodDownload {
  epochs: { initKey: string; keys: string[] }[];
  bytes: number;
  rendition: string;
}

/** A recording segment row as a playlist entry (the same shape as the live index's). */
export const vodSegment: (row: RecordingSegmentRow) => VodSegment = segmentInfo;

/** A finished recording never changes: players, the edge and CDNs may keep its playlists for up to a year. */
export const VOD_MAX_AGE = 31_536_000;

/**
 * Cache lifetime of a recording's playlists: they never change, but they must not outlive the
 * recording, so no cache keeps them past its expiry. Pure.
 */
export function vodMaxAge(expiresAt: number, now: number): number {
  return Math.max(1, Math.min(VOD_MAX_AGE, Math.floor((expiresAt - now) / 1000)));
}

/** The VOD master playlist (variant URIs relative: `<rendition>/index.m3u8`). */
export function renderVodMaster(data: VodMasterData): string {
  if (data.renditions.length === 0) throw new EdgeliveError('not_found', 'the recording holds no rendition');
  // The live master's writer over a finished stream (no retention check: the recording has its own).
  return renderMaster({ status: 'ended', playbackPolicy: 'public', endedAt: null, dvrWindowSeconds: 0, renditions: data.renditions }, { now: 0, endedRetentionSeconds: 0, streamId: '' }).body;
}

/** A VOD media playlist: EXT-X-PLAYLIST-TYPE:VOD, every segment, EXT-X-ENDLIST (RFC 8216bis §4.4.3.5). */
export function renderVodMedia(data: VodMediaData): string {
  const first = data.segments[0];
  if (!first) throw new EdgeliveError('not_found', 'the recording holds no segment of this rendition');
  return renderMediaPlaylist({
    targetDuration: Math.max(1, ...data.segments.map((s) => Math.round(s.duration))),
    mediaSequence: 0,
    discontinuitySequence: 0,
    playlistType: 'VOD',
    segments: data.segments.map((s) => ({ uri: s.file, duration: s.duration, programDateTime: s.programDateTime, mapUri: s.initFile, discontinuity: s.discontinuity, gap: s.gap })),
    ended: true,
  });
}
