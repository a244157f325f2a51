/**
 * Cuts a stream's segment index into DASH Periods (ISO/IEC 23009-1 §5.3.2; DASH-IF IOP: one Period
 * per timeline break). Pure: rows in, Periods out.
 *
 * A Period is a run of consecutive segment numbers from one encoder run (same epoch, same timeline
 * origin) with no gap. So a reconnect or takeover (new epoch: new init, new media timeline) starts
 * a Period, and a gap (a segment made but never stored) ends one: $Number$ addressing cannot skip a
 * number, and a player must never request a gap's file.
 *
 * Every row carries where its run began (`runStart`, set when it was indexed), so a Period's id
 * and start stay the same across updates however much of it has slid out of the window.
 */
import type { DashPeriod, DashRepresentation, DashTimelineSegment } from './dash-mpd.ts';
import type { MasterVariant } from './hls-master-playlist.ts';

/** One index row as the Period builder needs it. */
export interface DashSegmentRow {
  msn: number;
  epoch: number;
  /**
   * Wall clock (ms since epoch) of media time 0 of the encoder run that made the segment; null for
   * rows indexed before origins announced it.
   */
  timelineOrigin: number | null;
  /** Wall clock where the row's run of consecutive stored segments began; null for gaps and older rows. */
  runStart: number | null;
  /** Wall clock of the segment's first frame, ms since epoch. */
  programDateTime: number;
  /** Seconds. */
  duration: number;
  gap: boolean;
}

/** A rendition (described as the HLS master describes a variant) with the rows of its window. */
export interface DashRenditionRows extends Pick<MasterVariant, 'bandwidth' | 'width' | 'height' | 'codecs' | 'frameRate'> {
  name: string;
  rows: readonly DashSegmentRow[];
}

interface Run {
  epoch: number;
  origin: number;
  /** Wall clock of the run's first segment: Period@start. */
  start: number;
  first: number;
  last: number;
}

/** Timeline origin of a row: its own, or for an older row the earliest PDT of its epoch in the window (approximate). */
function originOf(renditions: readonly DashRenditionRows[]): (row: DashSegmentRow) => number {
  const legacy = new Map<number, number>();
  for (const r of renditions) {
    for (const row of r.rows) {
      if (row.timelineOrigin === null && !row.gap) legacy.set(row.epoch, Math.min(legacy.get(row.epoch) ?? Infinity, row.programDateTime));
    }
  }
  return (row) => row.timelineOrigin ?? legacy.get(row.epoch) ?? row.programDateTime;
}

/**
 * Runs over all renditions. A number that is a gap in any rendition belongs to no run (Periods
 * are common to every Representation); a run's start is the latest `runStart` any rendition
 * gives its rows, so a gap in one rendition splits the others' Periods at the same place.
 */
function runsOf(renditions: readonly DashRenditionRows[]): Run[] {
  const origin = originOf(renditions);
  const byMsn = new Map<number, { epoch: number; origin: number; start: number; gap: boolean }>();
  for (const r of renditions) {
    for (const row of r.rows) {
      const start = row.runStart ?? origin(row);
      const known = byMsn.get(row.msn);
      if (known) {
        known.gap ||= row.gap;
        known.start = Math.max(known.start, start);
      } else {
        byMsn.set(row.msn, { epoch: row.epoch, origin: origin(row), start, gap: row.gap });
      }
    }
  }
  const runs: Run[] = [];
  let open: Run | undefined;
  for (const msn of [...byMsn.keys()].sort((a, b) => a - b)) {
    const info = byMsn.get(msn)!;
    if (info.gap) continue;
    if (open && open.epoch === info.epoch && open.origin === info.origin && open.start === info.start) {
      open.last = msn;
      continue;
    }
    open = { epoch: info.epoch, origin: info.origin, start: info.start, first: msn, last: msn };
    runs.push(open);
  }
  return runs;
}

/**
 * The Periods over `renditions`, oldest first, each listing every rendition's stored segments of
 * its run; Periods with nothing listed are left out. Segment media times are
 * `programDateTime - timelineOrigin`, the fragments' decode times; Period@start is the run's first
 * segment, whose media time is the presentationTimeOffset.
 */
export function dashPeriods(renditions: readonly DashRenditionRows[], availabilityStartTime: number): DashPeriod[] {
  const periods: DashPeriod[] = [];
  for (const run of runsOf(renditions)) {
    const representations: DashRepresentation[] = [];
    for (const r of renditions) {
      const rows = r.rows.filter((row) => row.msn >= run.first && row.msn <= run.last && !row.gap);
      const first = rows[0];
      if (!first) continue;
      const segments: DashTimelineSegment[] = rows.map((row, i) => {
        const t = row.programDateTime - run.origin;
        const next = rows[i + 1];
        // Durations from neighbouring start times, so rounding never drifts the timeline.
        return { t, d: next && next.msn === row.msn + 1 ? next.programDateTime - run.origin - t : Math.round(row.duration * 1000) };
      });
      representations.push({
        id: r.name,
        bandwidth: r.bandwidth,
        width: r.width,
        height: r.height,
        codecs: r.codecs,
        frameRate: r.frameRate,
        initialization: `${r.name}/init-${run.epoch}.mp4`,
        media: `${r.name}/seg-$Number$-e${run.epoch}.m4s`,
        startNumber: first.msn,
        segments,
      });
    }
    if (representations.length === 0) continue;
    periods.push({
      id: `e${run.epoch}-${run.start}`,
      start: Math.max(0, run.start - availabilityStartTime),
      presentationTimeOffset: run.start - run.origin,
      representations,
    });
  }
  return periods;
}
