/**
 * HLS media playlist writer (RFC 8216bis §4.4.3-4.4.5). Pure: values in, text out.
 *
 * The output is built from three parts (header tags, one block per segment, end tags) so that
 * LL-HLS can slot in without a rewrite: EXT-X-SERVER-CONTROL and EXT-X-PART-INF join the header,
 * EXT-X-PART lines go before a segment's EXTINF, and EXT-X-PRELOAD-HINT / EXT-X-RENDITION-REPORT
 * join the end.
 */

/** One media segment as a playlist lists it. */
export interface MediaPlaylistSegment {
  /** Segment URI, usually relative (`seg-42-e1.m4s`). */
  uri: string;
  /** Exact duration in seconds. */
  duration: number;
  /** Wall-clock time of the first frame, ms since epoch. */
  programDateTime: number;
  /** URI of the init segment (EXT-X-MAP) that decodes this segment. */
  mapUri: string;
  /** A timeline break precedes this segment. */
  discontinuity: boolean;
  /** No media behind the URI (EXT-X-GAP): listed so media sequence numbers keep their meaning. */
  gap: boolean;
}

/** Everything a media playlist needs; the caller has already chosen the window of segments. */
export interface MediaPlaylistInput {
  /** Integer EXT-X-TARGETDURATION: at least every EXTINF rounded to the nearest integer. */
  targetDuration: number;
  /** Media sequence number of the first listed segment. */
  mediaSequence: number;
  /**
   * Discontinuity sequence number of the first listed segment. The first listed segment never
   * carries an EXT-X-DISCONTINUITY tag, so a discontinuity flagged on it must already be counted here.
   */
  discontinuitySequence: number;
  segments: readonly MediaPlaylistSegment[];
  /** The stream is over: add EXT-X-ENDLIST. */
  ended: boolean;
  /**
   * Delta updates (RFC 8216bis §4.4.3.8, §6.2.5.1): advertise `CAN-SKIP-UNTIL` (seconds, at least
   * 6 target durations) in EXT-X-SERVER-CONTROL. Unset: no delta updates.
   */
  canSkipUntil?: number;
  /** `VOD`: a finished recording that never changes (EXT-X-PLAYLIST-TYPE, §4.4.3.5). */
  playlistType?: 'VOD';
  /** The request asked `_HLS_skip=YES`: replace the segments older than `canSkipUntil` with EXT-X-SKIP. */
  skip?: boolean;
}

/**
 * The delta update of `input` (RFC 8216bis §6.2.5.1): how many of its first segments a player that
 * asked `_HLS_skip=YES` may skip, namely those starting more than `canSkipUntil` seconds before the
 * end of the playlist. 0 without `skip`/`canSkipUntil`, and once ended (players stop reloading). Pure.
 */
export function skippedSegments(input: MediaPlaylistInput): number {
  if (!input.skip || input.canSkipUntil === undefined || input.ended) return 0;
  let fromEnd = 0;
  for (let i = input.segments.length; i > 0; i--) {
    fromEnd += input.segments[i - 1]!.duration;
    // Segment i-1 starts more than canSkipUntil before the end: it and every segment before it go.
    if (fromEnd > input.canSkipUntil) return i;
  }
  return 0;
}

/** Renders a media playlist for `input`. */
export function renderMediaPlaylist(input: MediaPlaylistInput): string {
  const lines = [...headerLines(input)];
  const skipped = skippedSegments(input);
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  let previous: MediaPlaylistSegment | undefined;
  for (const [i, segment] of input.segments.entries()) {
    if (i < skipped) continue;
    // After a skip the first listed segment repeats its EXT-X-MAP and PDT (as a first segment does)
    // but keeps a discontinuity it carries: the skipped segments precede it.
    lines.push(...segmentLines(segment, previous, i === skipped && skipped > 0));
    previous = segment;
  }
  lines.push(...endLines(input));
  return `${lines.join('\n')}\n`;
}

function headerLines(input: MediaPlaylistInput): string[] {
  const lines = [
    '#EXTM3U',
    // EXT-X-MAP outside I-frame playlists needs version 6 (RFC 8216bis §8). The current draft puts no
    // version on EXT-X-GAP, but its earlier revisions required 8: say 8 whenever a gap is listed.
    // EXT-X-SKIP needs version 9 (RFC 8216bis §8).
    `#EXT-X-VERSION:${skippedSegments(input) > 0 ? 9 : input.segments.some((s) => s.gap) ? 8 : 7}`,
    `#EXT-X-TARGETDURATION:${input.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${input.mediaSequence}`,
  ];
  if (input.playlistType) lines.push(`#EXT-X-PLAYLIST-TYPE:${input.playlistType}`);
  // §4.4.3.3: absent means 0, so only write it once a discontinuity has slid out of the window.
  if (input.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${input.discontinuitySequence}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  const control = serverControlAttributes(input);
  if (control.length > 0) lines.push(`#EXT-X-SERVER-CONTROL:${control.join(',')}`);
  return lines;
}

/** EXT-X-SERVER-CONTROL attributes (§4.4.3.8); LL-HLS adds CAN-BLOCK-RELOAD and PART-HOLD-BACK here. */
function serverControlAttributes(input: MediaPlaylistInput): string[] {
  return input.canSkipUntil !== undefined && !input.ended ? [`CAN-SKIP-UNTIL=${input.canSkipUntil.toFixed(1)}`] : [];
}

function segmentLines(segment: MediaPlaylistSegment, previous: MediaPlaylistSegment | undefined, afterSkip = false): string[] {
  const lines: string[] = [];
  const first = previous === undefined;
  const discontinuity = (!first || afterSkip) && segment.discontinuity;
  if (discontinuity) lines.push('#EXT-X-DISCONTINUITY');
  // §4.4.4.5: EXT-X-MAP applies to every following segment until the next one.
  if (first || previous.mapUri !== segment.mapUri) lines.push(`#EXT-X-MAP:URI="${segment.mapUri}"`);
  // PDT on the first segment and after each break lets players map the new timeline to wall clock.
  if (first || discontinuity) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
  // §4.4.4.7: EXT-X-GAP applies to the next segment; players do not load its URI.
  if (segment.gap) lines.push('#EXT-X-GAP');
  lines.push(`#EXTINF:${segment.duration.toFixed(3)},`, segment.uri);
  return lines;
}

function endLines(input: MediaPlaylistInput): string[] {
  return input.ended ? ['#EXT-X-ENDLIST'] : [];
}
