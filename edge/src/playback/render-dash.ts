/** Turns the StreamDO's DASH data into MPD text and a cache lifetime. Pure: `now` is passed in. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { renderDashMpd } from '../../../shared/src/manifest/dash-mpd.ts';
import { dashPeriods } from '../../../shared/src/manifest/dash-periods.ts';
import type { DashManifestData } from '../stream-do/dash-data.ts';
import type { RenderedPlaylist } from './playlist-response.ts';
import { assertNotGone, ENDED_PLAYLIST_MAX_AGE, LIVE_MEDIA_MAX_AGE, type RenderContext } from './render-playlists.ts';

/** The DASH MPD's media type (ISO/IEC 23009-1 Annex C). */
export const MPD_CONTENT_TYPE = 'application/dash+xml';

/** Players reload the MPD this often (ms): a new segment is listed within it, like an HLS reload. */
export const MPD_UPDATE_PERIOD_MS = 1000;

/** The MPD over every rendition's window; `timeUrl` is the UTCTiming clock. */
export function renderDash(data: DashManifestData, ctx: RenderContext & { timeUrl: string }): RenderedPlaylist {
  assertNotGone(data, ctx);
  // Whole seconds keep the anchor readable; it never changes for the stream.
  const availabilityStartTime = Math.floor(data.createdAt / 1000) * 1000;
  const periods = dashPeriods(data.renditions, availabilityStartTime);
  if (periods.length === 0) throw new EdgeliveError('stream_not_ready', `stream ${ctx.streamId} has no segments yet`);
  const target = data.targetDuration * 1000;
  // Wall-clock span of what is listed, first frame to last frame (Period starts are wall clock).
  let first = Infinity;
  let last = 0;
  for (const p of periods) {
    for (const r of p.representations) {
      const head = r.segments[0];
      const tail = r.segments.at(-1);
      if (!head || !tail) continue;
      first = Math.min(first, p.start + head.t - p.presentationTimeOffset);
      last = Math.max(last, p.start + tail.t + tail.d - p.presentationTimeOffset);
    }
  }
  const ended = data.status === 'ended';
  const body = renderDashMpd({
    availabilityStartTime,
    publishTime: ctx.now,
    minimumUpdatePeriod: MPD_UPDATE_PERIOD_MS,
    timeShiftBufferDepth: last - first,
    // Two segments behind the last listed one: a segment is listed only once stored, so this is
    // the same distance an HLS player keeps (three target durations from the playlist's end, minus the one being made).
    suggestedPresentationDelay: 2 * target,
    maxSegmentDuration: target,
    minBufferTime: target,
    utcTimingUrl: ctx.timeUrl,
    mediaPresentationDuration: ended ? last : null,
    periods,
  });
  return { body, maxAge: ended ? ENDED_PLAYLIST_MAX_AGE : LIVE_MEDIA_MAX_AGE, playbackPolicy: data.playbackPolicy };
}
