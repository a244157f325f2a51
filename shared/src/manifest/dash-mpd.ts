/**
 * DASH MPD writer for a live stream (ISO/IEC 23009-1 §5.3, DASH-IF IOP live services). Pure:
 * values in, XML out. Every time is in milliseconds; the writer turns them into xs:dateTime,
 * xs:duration and SegmentTimeline units (timescale 1000).
 */
import type { MasterVariant } from './hls-master-playlist.ts';

/** One media segment of a Representation's SegmentTimeline, in ms on the Period's media timeline. */
export interface DashTimelineSegment {
  /** Media time of its first frame (the fragment's decode time), ms. */
  t: number;
  /** Duration, ms. */
  d: number;
}

/** One rendition in one Period: a SegmentTemplate with a SegmentTimeline and $Number$ addressing. */
export interface DashRepresentation extends Pick<MasterVariant, 'bandwidth' | 'width' | 'height' | 'codecs' | 'frameRate'> {
  id: string;
  /** Init segment URI relative to the MPD (`720p/init-3.mp4`). */
  initialization: string;
  /** Media URI template with `$Number$` (`720p/seg-$Number$-e3.m4s`). */
  media: string;
  /** $Number$ of the first timeline entry. */
  startNumber: number;
  /** Consecutive segments: each `t` is the previous `t + d` or a later time. */
  segments: readonly DashTimelineSegment[];
}

/** One Period: a stretch of one encoder run's timeline with no missing segment. */
export interface DashPeriod {
  /** Stays the same across MPD updates for as long as the Period is listed. */
  id: string;
  /** Period@start, ms after availabilityStartTime. */
  start: number;
  /** SegmentTemplate@presentationTimeOffset, ms: the media time that plays at Period@start. */
  presentationTimeOffset: number;
  representations: readonly DashRepresentation[];
}

/** Everything a dynamic MPD needs; the caller has chosen the window and the Periods. */
export interface DashMpdInput {
  /** MPD@availabilityStartTime, ms since epoch: the anchor of every Period@start. */
  availabilityStartTime: number;
  /** MPD@publishTime, ms since epoch: when this version of the MPD was made. */
  publishTime: number;
  /** MPD@minimumUpdatePeriod, ms: how often a live player reloads the MPD. */
  minimumUpdatePeriod: number;
  /** MPD@timeShiftBufferDepth, ms: how far back the listed segments reach. */
  timeShiftBufferDepth: number;
  /** MPD@suggestedPresentationDelay, ms behind the live edge. */
  suggestedPresentationDelay: number;
  /** MPD@maxSegmentDuration, ms. */
  maxSegmentDuration: number;
  /** MPD@minBufferTime, ms. */
  minBufferTime: number;
  /** Absolute URL of an `urn:mpeg:dash:utc:http-iso:2014` clock (UTCTiming). */
  utcTimingUrl: string;
  /**
   * The stream has ended: MPD@mediaPresentationDuration is set (ms from availabilityStartTime) and
   * MPD@minimumUpdatePeriod is left out, so players stop at the last segment (DASH-IF IOP 4.6.2).
   */
  mediaPresentationDuration: number | null;
  periods: readonly DashPeriod[];
}

/** The MPD namespace and the live profile over CMAF segments with $Number$ templates. */
const MPD_NAMESPACE = 'urn:mpeg:dash:schema:mpd:2011';
const LIVE_PROFILE = 'urn:mpeg:dash:profile:isoff-live:2011';
/** UTCTiming scheme for a GET answering an ISO 8601 time (23009-1 §5.8.5.7). */
export const UTC_TIMING_HTTP_ISO = 'urn:mpeg:dash:utc:http-iso:2014';

/** xs:duration with millisecond precision: `PT12.345S` (no minutes or hours, which are optional). */
export function xsDuration(ms: number): string {
  const seconds = Math.round(ms) / 1000;
  return `PT${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}S`;
}

/** xs:dateTime in UTC with milliseconds. */
function xsDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** S elements, runs of equal contiguous durations folded into @r (23009-1 §5.3.9.6). */
export function timelineElements(segments: readonly DashTimelineSegment[]): string[] {
  const out: string[] = [];
  let run: { t: number; d: number; r: number; explicitT: boolean } | undefined;
  let nextT: number | undefined;
  const flush = () => {
    if (!run) return;
    out.push(`<S${run.explicitT ? ` t="${run.t}"` : ''} d="${run.d}"${run.r > 0 ? ` r="${run.r}"` : ''}/>`);
  };
  for (const s of segments) {
    const contiguous = nextT === s.t;
    if (run && contiguous && s.d === run.d) {
      run.r++;
    } else {
      flush();
      // @t is written on the first S and wherever the timeline does not simply continue.
      run = { t: s.t, d: s.d, r: 0, explicitT: !contiguous };
    }
    nextT = s.t + s.d;
  }
  flush();
  return out;
}

function representationLines(r: DashRepresentation, pto: number): string[] {
  const attributes = [
    `id="${escapeAttribute(r.id)}"`,
    `bandwidth="${Math.round(r.bandwidth)}"`,
    `width="${r.width}"`,
    `height="${r.height}"`,
    `codecs="${escapeAttribute(r.codecs)}"`,
  ];
  if (r.frameRate > 0) attributes.push(`frameRate="${Number(r.frameRate.toFixed(3))}"`);
  const template = [
    'timescale="1000"',
    `presentationTimeOffset="${pto}"`,
    `startNumber="${r.startNumber}"`,
    `initialization="${escapeAttribute(r.initialization)}"`,
    `media="${escapeAttribute(r.media)}"`,
  ];
  return [
    `      <Representation ${attributes.join(' ')}>`,
    `        <SegmentTemplate ${template.join(' ')}>`,
    '          <SegmentTimeline>',
    ...timelineElements(r.segments).map((s) => `            ${s}`),
    '          </SegmentTimeline>',
    '        </SegmentTemplate>',
    '      </Representation>',
  ];
}

function periodLines(p: DashPeriod): string[] {
  // Renditions are muxed CMAF (video + audio in one track set), so one AdaptationSet holds them all.
  return [
    `  <Period id="${escapeAttribute(p.id)}" start="${xsDuration(p.start)}">`,
    '    <AdaptationSet id="0" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">',
    ...p.representations.flatMap((r) => representationLines(r, p.presentationTimeOffset)),
    '    </AdaptationSet>',
    '  </Period>',
  ];
}

/** Renders a dynamic MPD for `input`; Periods with no Representation are left out. */
export function renderDashMpd(input: DashMpdInput): string {
  const attributes = [
    `xmlns="${MPD_NAMESPACE}"`,
    `profiles="${LIVE_PROFILE}"`,
    'type="dynamic"',
    `availabilityStartTime="${xsDateTime(input.availabilityStartTime)}"`,
    `publishTime="${xsDateTime(input.publishTime)}"`,
  ];
  if (input.mediaPresentationDuration === null) attributes.push(`minimumUpdatePeriod="${xsDuration(input.minimumUpdatePeriod)}"`);
  else attributes.push(`mediaPresentationDuration="${xsDuration(input.mediaPresentationDuration)}"`);
  attributes.push(
    `timeShiftBufferDepth="${xsDuration(input.timeShiftBufferDepth)}"`,
    `suggestedPresentationDelay="${xsDuration(input.suggestedPresentationDelay)}"`,
    `maxSegmentDuration="${xsDuration(input.maxSegmentDuration)}"`,
    `minBufferTime="${xsDuration(input.minBufferTime)}"`,
  );
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD ${attributes.join(' ')}>`,
    ...input.periods.filter((p) => p.representations.some((r) => r.segments.length > 0)).flatMap(periodLines),
    `  <UTCTiming schemeIdUri="${UTC_TIMING_HTTP_ISO}" value="${escapeAttribute(input.utcTimingUrl)}"/>`,
    '</MPD>',
  ];
  return `${lines.join('\n')}\n`;
}
