/**
 * The segment index's one write path: per rendition it only grows at its end, numbers are never
 * reused or moved (a missing number becomes an EXT-X-GAP row), and it keeps only the rows the
 * playlists can still list. Runs inside a write.
 */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { initFileName, segmentFileName } from '../../../shared/src/internal-api.ts';
import type { SegmentAnnounce } from '../../../shared/src/schemas.ts';
import type { SegmentRow } from './stream-schema.ts';
import type { NewSegment, StreamStore } from './stream-store.ts';

/** The widest run of missing numbers filled with gap rows; a larger jump is a broken origin, not an outage. */
export const MAX_GAP_FILL = 1000;

/** The rows appending reads and writes: a StreamStore, or an object literal in unit tests. */
export type SegmentIndexStore = Pick<StreamStore, 'rendition' | 'lastSegment' | 'insertSegment' | 'pruneSegmentsBefore'>;

/** A run of gap rows one announce made in one rendition: `skipped` (numbers the origin never announced), `not_stored` (announced as gaps). */
export interface SegmentsGap {
  rendition: string;
  fromMsn: number;
  toMsn: number;
  reason: 'not_stored' | 'skipped';
}

/** What an append did: rows stored (gaps the origin announced included), segments skipped as already indexed, gaps made. */
export interface AppendResult {
  stored: number;
  skipped: number;
  gaps: SegmentsGap[];
  /** The longest stored duration, rounded (RFC 8216bis §4.4.3.1), or 0. */
  longest: number;
}

/**
 * Rows kept per rendition: the playlist window or the DVR window, whichever is longer, and two
 * more so a player that loaded the previous playlist still finds its next segment. Pure.
 */
export function segmentRowsKept(playlistWindowSegments: number, dvrWindowSeconds: number, segmentSeconds: number): number {
  return Math.max(playlistWindowSegments, Math.ceil(dvrWindowSeconds / segmentSeconds)) + 2;
}

/**
 * Gap rows for the numbers between `previous` and `msn`: the previous row's epoch, init and file
 * naming, the stream's nominal duration, and wall clock carried on from the previous row. Pure.
 */
export function gapRows(previous: SegmentRow, msn: number, segmentSeconds: number): NewSegment[] {
  const rows: NewSegment[] = [];
  let programDateTime = previous.program_date_time + previous.duration * 1000;
  for (let m = previous.msn + 1; m < msn; m++) {
    rows.push({
      rendition: previous.rendition,
      msn: m,
      epoch: previous.epoch,
      duration: segmentSeconds,
      programDateTime: Math.round(programDateTime),
      file: segmentFileName(m, previous.epoch),
      initFile: previous.init_file,
      bytes: 0,
      discontinuity: false,
      gap: true,
    });
    programDateTime += segmentSeconds * 1000;
  }
  return rows;
}

/**
 * Wall clock where the segment's run begins: the previous row's run when that row is a stored
 * segment of the same encoder run (epoch and timeline origin) right before it, else the segment
 * itself. A DASH Period is such a run; each row carries it, so pruning never loses it. Pure.
 */
export function runStart(previous: SegmentRow | null, s: { msn: number; epoch: number; programDateTime: number; timelineOrigin?: number | undefined }): number {
  const continues =
    previous !== null &&
    previous.msn === s.msn - 1 &&
    previous.gap === 0 &&
    previous.epoch === s.epoch &&
    previous.timeline_origin === (s.timelineOrigin ?? null) &&
    previous.run_start !== null;
  return continues ? previous.run_start! : s.programDateTime;
}

/** Adds a gap to the announce's list, extending the run it continues (same rendition and reason). */
function noteGap(gaps: SegmentsGap[], gap: SegmentsGap): void {
  const run = gaps.findLast((g) => g.rendition === gap.rendition && g.reason === gap.reason);
  if (run && run.toMsn + 1 === gap.fromMsn) run.toMsn = gap.toMsn;
  else gaps.push({ ...gap });
}

/**
 * Appends an announce's segments. A segment may be of an older epoch than the announce (uploads a
 * node queued before it reconnected); its init is that epoch's. A number at or below the
 * rendition's last row is skipped (a retry, or too late: the index never inserts before its end);
 * a number past the end fills the hole with gap rows. A change of epoch from the previous row is a
 * discontinuity. `keep` rows per rendition survive; older ones are pruned.
 */
export function appendSegments(store: SegmentIndexStore, a: SegmentAnnounce, segmentSeconds: number, keep: number): AppendResult {
  const result: AppendResult = { stored: 0, skipped: 0, gaps: [], longest: 0 };
  const ends = new Map<string, number>();
  for (const s of a.segments) {
    if (s.epoch > a.epoch) {
      throw new EdgeliveError('bad_request', `segment ${s.msn} of ${s.rendition} is of epoch ${s.epoch}, after the announce's epoch ${a.epoch}`);
    }
    const rendition = store.rendition(s.rendition);
    // The rendition keeps its latest init; one of an epoch before it was announced in its time.
    if (!rendition || rendition.epoch < s.epoch) {
      throw new EdgeliveError('conflict', `rendition ${s.rendition} has no init segment announced in epoch ${s.epoch}`);
    }
    const last = store.lastSegment(s.rendition);
    if (last && s.msn <= last.msn) {
      result.skipped++;
      continue;
    }
    if (last && s.msn > last.msn + 1) {
      const missing = s.msn - last.msn - 1;
      if (missing > MAX_GAP_FILL) {
        throw new EdgeliveError('bad_request', `segment ${s.msn} of ${s.rendition} is ${missing} numbers past the last one (${last.msn}); at most ${MAX_GAP_FILL} are filled as gaps`);
      }
      for (const row of gapRows(last, s.msn, segmentSeconds)) store.insertSegment(row);
      noteGap(result.gaps, { rendition: s.rendition, fromMsn: last.msn + 1, toMsn: s.msn - 1, reason: 'skipped' });
    }
    store.insertSegment({
      rendition: s.rendition,
      msn: s.msn,
      epoch: s.epoch,
      duration: s.duration,
      programDateTime: s.programDateTime,
      file: s.file,
      initFile: initFileName(s.epoch),
      bytes: s.bytes,
      // Gap rows carry the last row's epoch, so the last row decides. Any change of epoch is a new
      // encoder run: a new timeline and init (RFC 8216bis §4.4.4.3).
      discontinuity: last !== null && s.epoch !== last.epoch,
      gap: s.gap,
      timelineOrigin: s.timelineOrigin,
      runStart: s.gap ? undefined : runStart(last, s),
    });
    if (s.gap) noteGap(result.gaps, { rendition: s.rendition, fromMsn: s.msn, toMsn: s.msn, reason: 'not_stored' });
    result.stored++;
    result.longest = Math.max(result.longest, Math.round(s.duration));
    ends.set(s.rendition, s.msn);
  }
  for (const [rendition, lastMsn] of ends) {
    if (lastMsn - keep + 1 > 0) store.pruneSegmentsBefore(rendition, lastMsn - keep + 1);
  }
  return result;
}
