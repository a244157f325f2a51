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
  /** LL-HLS: the segment's partial segments (EXT-X-PART before its EXTINF), when still listed. */
  parts?: readonly MediaPlaylistPart[];
}

/** One partial segment (RFC 8216bis §4.4.4.9). */
export interface MediaPlaylistPart {
  uri: string;
  /** Exact duration in seconds; at most the part target. */
  duration: number;
  /** Starts with a sync sample (INDEPENDENT=YES). */
  independent: boolean;
}

/** Where another rendition's live edge is (EXT-X-RENDITION-REPORT, §4.4.5.4). */
export interface RenditionReport {
  /** Relative to this playlist, e.g. `../360p/index.m3u8`. */
  uri: string;
  lastMsn: number;
  /** Index of its last part in `lastMsn`; absent when it lists no parts. */
  lastPart?: number;
}

/** The LL-HLS half of a media playlist (Apple's "Enabling Low-Latency HLS", RFC 8216bis §4.4.3.7-8, §4.4.5). */
export interface LowLatencyInput {
  /** PART-TARGET, seconds: every part is at most this long. */
  partTarget: number;
  /** Parts of the segment being made (msn = last listed segment + 1), after the last EXTINF. */
  trailingParts: readonly MediaPlaylistPart[];
  /** URI of the next part (EXT-X-PRELOAD-HINT TYPE=PART); none once ended. */
  preloadHint?: string;
  renditionReports: readonly RenditionReport[];
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
  /** LL-HLS tags; absent for a plain live playlist. */
  lowLatency?: LowLatencyInput;
}

/** PART-HOLD-BACK as a multiple of PART-TARGET: Apple requires at least 3 (the draft only 2). */
export const PART_HOLD_BACK_PARTS = 3;

/** Renders a media playlist for `input`. */
export function renderMediaPlaylist(input: MediaPlaylistInput): string {
  const skipped = skippedSegments(input);
  const lines = [...headerLines(input, skipped)];
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  // After EXT-X-SKIP the first listed segment keeps its own DISCONTINUITY and restates its map and date.
  let previous: MediaPlaylistSegment | undefined = input.segments[skipped - 1];
  for (const [i, segment] of input.segments.slice(skipped).entries()) {
    lines.push(...segmentLines(segment, previous, i === 0));
    previous = segment;
  }
  lines.push(...endLines(input));
  return `${lines.join('\n')}\n`;
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

/** Decimal seconds as attribute values: at most 5 places, no trailing zeros past one. */
function seconds(value: number): string {
  const text = value.toFixed(5).replace(/0+$/, '');
  return text.endsWith('.') ? `${text}0` : text;
}

function version(input: MediaPlaylistInput, skipped: number): number {
  // EXT-X-SKIP needs version 9 (§4.4.5.2). EXT-X-MAP outside I-frame playlists needs 6 (§8). The
  // current draft puts no version on EXT-X-GAP, but its earlier revisions required 8.
  if (skipped > 0) return 9;
  return input.segments.some((s) => s.gap) ? 8 : 7;
}

function headerLines(input: MediaPlaylistInput, skipped: number): string[] {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${version(input, skipped)}`, `#EXT-X-TARGETDURATION:${input.targetDuration}`];
  const control = serverControlAttributes(input);
  if (control.length > 0) lines.push(`#EXT-X-SERVER-CONTROL:${control.join(',')}`);
  if (input.lowLatency) lines.push(`#EXT-X-PART-INF:PART-TARGET=${seconds(input.lowLatency.partTarget)}`);
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${input.mediaSequence}`);
  if (input.playlistType) lines.push(`#EXT-X-PLAYLIST-TYPE:${input.playlistType}`);
  // §4.4.3.3: absent means 0, so only write it once a discontinuity has slid out of the window.
  if (input.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${input.discontinuitySequence}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  return lines;
}

/** EXT-X-SERVER-CONTROL attributes (§4.4.3.8): LL-HLS's blocking reload and part hold-back, and delta updates while live. */
function serverControlAttributes(input: MediaPlaylistInput): string[] {
  const ll = input.lowLatency;
  const attributes: string[] = [];
  if (ll) attributes.push('CAN-BLOCK-RELOAD=YES');
  if (input.canSkipUntil !== undefined && !input.ended) attributes.push(`CAN-SKIP-UNTIL=${seconds(input.canSkipUntil)}`);
  if (ll) attributes.push(`PART-HOLD-BACK=${seconds(ll.partTarget * PART_HOLD_BACK_PARTS)}`);
  return attributes;
}

function segmentLines(segment: MediaPlaylistSegment, previous: MediaPlaylistSegment | undefined, firstListed: boolean): string[] {
  const lines: string[] = [];
  const discontinuity = previous !== undefined && segment.discontinuity;
  if (discontinuity) lines.push('#EXT-X-DISCONTINUITY');
  // §4.4.4.5: EXT-X-MAP applies to every following segment until the next one.
  if (firstListed || previous?.mapUri !== segment.mapUri) lines.push(`#EXT-X-MAP:URI="${segment.mapUri}"`);
  // PDT on the first segment and after each break lets players map the new timeline to wall clock.
  if (firstListed || discontinuity) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
  for (const part of segment.parts ?? []) lines.push(partLine(part));
  // §4.4.4.7: EXT-X-GAP applies to the next segment; players do not load its URI.
  if (segment.gap) lines.push('#EXT-X-GAP');
  lines.push(`#EXTINF:${segment.duration.toFixed(3)},`, segment.uri);
  return lines;
}

function partLine(part: MediaPlaylistPart): string {
  return `#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${part.uri}"${part.independent ? ',INDEPENDENT=YES' : ''}`;
}

function endLines(input: MediaPlaylistInput): string[] {
  const ll = input.lowLatency;
  const lines: string[] = [];
  if (ll) {
    lines.push(...ll.trailingParts.map(partLine));
    // §4.4.5.3: the hint names the part the server makes next; none once the stream is over.
    if (ll.preloadHint && !input.ended) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${ll.preloadHint}"`);
    for (const r of ll.renditionReports) {
      lines.push(`#EXT-X-RENDITION-REPORT:URI="${r.uri}",LAST-MSN=${r.lastMsn}${r.lastPart === undefined ? '' : `,LAST-PART=${r.lastPart}`}`);
    }
  }
  if (input.ended) lines.push('#EXT-X-ENDLIST');
  return lines;
}
