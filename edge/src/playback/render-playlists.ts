/** Turns the StreamDO's playlist data into playlist text and cache lifetimes. Pure: `now` is passed in. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { renderMasterPlaylist } from '../../../shared/src/manifest/hls-master-playlist.ts';
import { renderMediaPlaylist, type LowLatencyInput, type MediaPlaylistPart } from '../../../shared/src/manifest/hls-media-playlist.ts';
import { canSkipUntil } from '../recordings/dvr-window.ts';
import type { LowLatencyData } from '../stream-do/low-latency-playlist.ts';
import type { PartInfo } from '../stream-do/part-index.ts';
import type { MasterPlaylistData, MediaPlaylistData } from '../stream-do/playlist-data.ts';
import type { RenderedPlaylist } from './playlist-response.ts';

/** How long players may cache a finished stream's playlists: nothing will change any more. */
export const ENDED_PLAYLIST_MAX_AGE = 30;
/**
 * Live (and reconnecting, error) media playlists: one second, so a change of state (a new segment,
 * ENDLIST once the reconnect window ends) reaches viewers within 2 s even through a CDN in front of the edge's own
 * cache; players reload about once a target duration anyway (RFC 8216bis §6.3.4).
 */
export const LIVE_MEDIA_MAX_AGE = 1;

/**
 * A blocking reload's answer (`_HLS_msn`/`_HLS_part` in the URL): it holds what that URL asked for
 * however old it gets, and the player's next request names a newer part, so it may be kept longer:
 * a viewer running a little behind still gets it from a cache, not from the StreamDO.
 */
export const BLOCKING_MEDIA_MAX_AGE = 6;
/** Master playlists change only when a rendition appears. */
export const MASTER_MAX_AGE = 2;

/** What rendering needs besides the StreamDO's data. */
export interface RenderContext {
  now: number;
  endedRetentionSeconds: number;
  streamId: string;
}

/** How long an ended stream keeps serving its final playlists: its retention, or its DVR window if longer. */
export function servedAfterEndMs(endedRetentionSeconds: number, dvrWindowSeconds: number): number {
  return Math.max(endedRetentionSeconds, dvrWindowSeconds) * 1000;
}

/** 410 once an ended stream is past its retention (or its DVR window, if longer). */
export function assertNotGone(data: { status: string; endedAt: number | null; dvrWindowSeconds: number }, ctx: RenderContext): void {
  if (isGone(data, ctx)) throw new EdgeliveError('stream_gone', `stream ${ctx.streamId} ended and is no longer served`);
}

/** Whether the stream ended longer ago than it is served after its end (its playlists answer 410). Pure. */
export function isGone(data: { status: string; endedAt: number | null; dvrWindowSeconds: number }, ctx: Pick<RenderContext, 'now' | 'endedRetentionSeconds'>): boolean {
  return data.status === 'ended' && data.endedAt !== null && ctx.now - data.endedAt > servedAfterEndMs(ctx.endedRetentionSeconds, data.dvrWindowSeconds);
}

/** The master playlist over renditions that have at least one segment. */
export function renderMaster(data: MasterPlaylistData, ctx: RenderContext): RenderedPlaylist {
  assertNotGone(data, ctx);
  const ready = data.renditions.filter((r) => r.segments > 0);
  if (ready.length === 0) throw new EdgeliveError('stream_not_ready', `stream ${ctx.streamId} has no segments yet`);
  const body = renderMasterPlaylist(
    ready.map((r) => ({
      uri: `${r.name}/index.m3u8`,
      bandwidth: r.bandwidth,
      averageBandwidth: r.averageBandwidth,
      width: r.width,
      height: r.height,
      codecs: r.codecs,
      frameRate: r.frameRate,
    })),
  );
  return { body, maxAge: data.status === 'ended' ? ENDED_PLAYLIST_MAX_AGE : MASTER_MAX_AGE, playbackPolicy: data.playbackPolicy };
}

/** LL-HLS input of the playlist writer from the StreamDO's data. */
function lowLatencyInput(ll: LowLatencyData): LowLatencyInput {
  return {
    partTarget: ll.partTarget,
    trailingParts: ll.trailingParts.map(partOf),
    ...(ll.preloadHint ? { preloadHint: ll.preloadHint } : {}),
    renditionReports: ll.reports.map((r) => ({ uri: `../${r.rendition}/index.m3u8`, lastMsn: r.lastMsn, ...(r.lastPart === undefined ? {} : { lastPart: r.lastPart }) })),
  };
}

function partOf(p: PartInfo): MediaPlaylistPart {
  return { uri: p.file, duration: p.duration, independent: p.independent };
}

/** A rendition's media playlist over the StreamDO's window; ENDLIST only once ended (reconnecting and error may resume). */
export function renderMedia(data: MediaPlaylistData, ctx: RenderContext & { rendition: string; skip?: boolean; blocking?: boolean }): RenderedPlaylist {
  assertNotGone(data, ctx);
  const first = data.segments[0];
  if (!first) throw new EdgeliveError('stream_not_ready', `rendition ${ctx.rendition} of stream ${ctx.streamId} has no segments yet`);
  const ended = data.status === 'ended';
  const ll = data.lowLatency;
  const partsOf = new Map(ll?.segmentParts.map((s) => [s.msn, s.parts.map(partOf)]));
  const body = renderMediaPlaylist({
    targetDuration: data.targetDuration,
    mediaSequence: first.msn,
    discontinuitySequence: data.discontinuitySequence,
    segments: data.segments.map((s) => ({
      uri: s.file,
      duration: s.duration,
      programDateTime: s.programDateTime,
      mapUri: s.initFile,
      discontinuity: s.discontinuity,
      gap: s.gap,
      ...(partsOf.has(s.msn) ? { parts: partsOf.get(s.msn)! } : {}),
    })),
    ended,
    // Delta updates (`_HLS_skip=YES`) for the long DVR playlists and for LL-HLS, whose players reload every part.
    ...(data.dvrWindowSeconds > 0 || ll ? { canSkipUntil: canSkipUntil(data.targetDuration), skip: ctx.skip === true } : {}),
    ...(ll ? { lowLatency: lowLatencyInput(ll) } : {}),
  });
  const liveMaxAge = ctx.blocking && ll ? BLOCKING_MEDIA_MAX_AGE : LIVE_MEDIA_MAX_AGE;
  return { body, maxAge: ended ? ENDED_PLAYLIST_MAX_AGE : liveMaxAge, playbackPolicy: data.playbackPolicy };
}
