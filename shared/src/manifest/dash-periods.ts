/**
 * Cuts a stream's segment index into DASH Periods (ISO/IEC 23009-1 §5.3.2; DASH-IF IOP: one Period
 * per timeline break). Pure: rows in, Periods out.
 *
 * A Period is a run of consecutive segment numbers from one encoder run (same epoch and same
 * timeline origin) with no gap. So a reconnect or takeover (new epoch, new init, new media
 * timeline) starts a Period, and a gap (a segment made but never stored) ends one: $Number$
 * addressing cannot skip a number, and a player must never request a gap's file.
 *
 * Period ids and starts stay the same across updates while the Period is listed: an encoder run's
 * first Period starts at its timeline origin (media time 0, presentationTimeOffset 0); a Period
 * after a gap starts at its first segment, named by that segment's number.
 */
import type { DashPeriod, DashRepresentation, DashTimelineSegment } from './dash-mpd.ts';

/** One index row as the Period builder needs it. */
export interface DashSegmentRow {
  msn: number;
  epoch: number;
  /**
   * Wall clock (ms since epoch) of media time 0 of the encoder run that made the segment; null for
   * rows indexed before origins announced it (the earliest such row of the epoch stands in).
   */
  timelineOrigin: number | null;
  /** Wall clock of the segment's first frame, ms since epoch. */
  programDateTime: number;
  /** Seconds. */
  duration: number;
  gap: boolean;
}

/** A rendition with its rows: those from `listFrom` on are listed, earlier ones only say where runs began. */
export interface DashRenditionRows {
  name: string;
  width: number;
  height: number;
  codecs: string;
  frameRate: number;
  bandwidth: number;
  listFrom: number;
  rows: readonly DashSegmentRow[];
}

interface MsnInfo {
  epoch: number;
  origin: number;
  programDateTime: number;
  gap: boolean;
}

/** Origin of a row, or for a legacy row the PDT of the earliest row of its epoch. */
function originsOf(renditions: readonly DashRenditionRows[]): Map<number, MsnInfo> {
  const legacyOrigin = new Map<number, number>();
  for (const r of renditions) {
    for (const row of r.rows) {
      if (row.timelineOrigin !== null || row.gap) continue;
      legacyOrigin.set(row.epoch, Math.min(legacyOrigin.get(row.epoch) ?? Infinity, row.programDateTime));
    }
  }
  const byMsn = new Map<number, MsnInfo>();
  for (const r of renditions) {
    for (const row of r.rows) {
      const origin = row.timelineOrigin ?? legacyOrigin.get(row.epoch) ?? row.programDateTime;
      const known = byMsn.get(row.msn);
      // A number missing in any rendition is a gap for all: Periods are common to every Representation.
      if (known) known.gap ||= row.gap;
      else byMsn.set(row.msn, { epoch: row.epoch, origin, programDateTime: row.programDateTime, gap: row.gap });
    }
  }
  return byMsn;
}

interface Run {
  id: string;
  first: number;
  last: number;
  origin: number;
  /** Media time (ms) at Period@start. */
  pto: number;
  /** Period@start as wall clock, ms since epoch. */
  startWall: number;
  epoch: number;
}

/** Maximal runs of consecutive, non-gap numbers from one encoder run. */
function runsOf(byMsn: Map<number, MsnInfo>): Run[] {
  const msns = [...byMsn.keys()].sort((a, b) => a - b);
  const runs: Run[] = [];
  let open: Run | undefined;
  for (const msn of msns) {
    const info = byMsn.get(msn)!;
    if (info.gap) {
      open = undefined;
      continue;
    }
    if (open && open.last === msn - 1 && open.epoch === info.epoch && open.origin === info.origin) {
      open.last = msn;
      continue;
    }
    const before = byMsn.get(msn - 1);
    // Gap rows the edge filled in carry no origin of their own: the epoch says they belong to this run.
    const afterGap = before !== undefined && before.gap && before.epoch === info.epoch;
    const pto = afterGap ? info.programDateTime - info.origin : 0;
    open = {
      id: afterGap ? `e${info.epoch}-o${info.origin}-m${msn}` : `e${info.epoch}-o${info.origin}`,
      first: msn,
      last: msn,
      origin: info.origin,
      pto,
      startWall: info.origin + pto,
      epoch: info.epoch,
    };
    runs.push(open);
  }
  return runs;
}

/**
 * The Periods over `renditions`, oldest first, each listing every rendition's stored segments of
 * its run from the rendition's `listFrom` on; Periods with nothing listed are left out. Segment
 * media times are `programDateTime - timelineOrigin`, which is the fragments' decode time.
 */
export function dashPeriods(renditions: readonly DashRenditionRows[], availabilityStartTime: number): DashPeriod[] {
  const runs = runsOf(originsOf(renditions));
  const periods: DashPeriod[] = [];
  for (const run of runs) {
    const representations: DashRepresentation[] = [];
    for (const r of renditions) {
      const rows = r.rows.filter((row) => row.msn >= Math.max(run.first, r.listFrom) && row.msn <= run.last && !row.gap);
      const first = rows[0];
      if (!first) continue;
      const segments: DashTimelineSegment[] = rows.map((row, i) => {
        const t = row.programDateTime - run.origin;
        const next = rows[i + 1];
        // Durations from neighbouring start times so rounding never drifts the timeline.
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
    periods.push({ id: run.id, start: Math.max(0, run.startWall - availabilityStartTime), presentationTimeOffset: run.pto, representations });
  }
  return periods;
}
