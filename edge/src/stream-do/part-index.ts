/**
 * The StreamDO's LL-HLS part index: which parts of the last few segments the origin holds, per
 * rendition. Kept in memory only: a part matters for a few seconds, and writing each one to SQLite
 * (three a second per rendition) would cost more than the parts are worth. An object that restarts
 * loses at most the parts of the segments being made; playlists list parts again from the next
 * segment on (a segment's parts are listed only when all of them, from part 0, are known).
 */
import type { AnnouncedPart } from '../../../shared/src/schemas.ts';

/** One part as the playlist lists it. */
export interface PartInfo {
  file: string;
  duration: number;
  independent: boolean;
}

/** The known parts of one segment, from part 0 on. */
export interface SegmentParts {
  epoch: number;
  parts: PartInfo[];
  /** The origin closed the segment after its last part: the next part is part 0 of the next segment. */
  closed: boolean;
}

/** Segments per rendition whose parts are kept: more than a playlist lists (about 3 target durations). */
export const PART_SEGMENTS_KEPT = 6;

/** Parts per rendition and segment; the newest `PART_SEGMENTS_KEPT` segments only. */
export class PartIndex {
  readonly #renditions = new Map<string, Map<number, SegmentParts>>();

  /** Adds announced parts in order; a part that does not follow the known ones of its segment starts nothing (an index rebuilt after a restart waits for a part 0). */
  add(parts: readonly AnnouncedPart[]): number {
    let added = 0;
    for (const p of parts) {
      let segments = this.#renditions.get(p.rendition);
      if (!segments) this.#renditions.set(p.rendition, (segments = new Map()));
      let known = segments.get(p.msn);
      if (!known) {
        if (p.part !== 0) continue;
        segments.set(p.msn, (known = { epoch: p.epoch, parts: [], closed: false }));
        // Part 0 of a segment says the previous one is complete (the origin closes a segment when the
        // next keyframe's part arrives, so its own last part could not say so).
        const previous = segments.get(p.msn - 1);
        if (previous && previous.epoch === p.epoch) previous.closed = true;
      }
      if (p.part !== known.parts.length || known.closed) continue; // a repeat, or a hole after a restart
      known.parts.push({ file: p.file, duration: p.duration, independent: p.independent });
      known.closed = p.last;
      added++;
      this.#prune(segments);
    }
    return added;
  }

  /** The parts of segment `msn` of `rendition`, if they are known from part 0. */
  of(rendition: string, msn: number): SegmentParts | undefined {
    return this.#renditions.get(rendition)?.get(msn);
  }

  /** Forgets every part (a new epoch starts its segments afresh). */
  clear(): void {
    this.#renditions.clear();
  }

  #prune(segments: Map<number, SegmentParts>): void {
    if (segments.size <= PART_SEGMENTS_KEPT) return;
    const msns = [...segments.keys()].sort((a, b) => a - b);
    for (const msn of msns.slice(0, msns.length - PART_SEGMENTS_KEPT)) segments.delete(msn);
  }
}
