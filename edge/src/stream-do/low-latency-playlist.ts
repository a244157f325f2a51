/**
 * The LL-HLS half of a media playlist's data, and the blocking-reload rules (RFC 8216bis §6.2.5.2)
 * judged on it. Pure: the segment index and the part index in, values out.
 */
import { partFileName } from '../../../shared/src/internal-api.ts';
import type { SegmentInfo } from '../../../shared/src/types.ts';
import type { PartIndex, PartInfo, SegmentParts } from './part-index.ts';

/** A blocking playlist request: `_HLS_msn` and, optionally, `_HLS_part`. */
export interface BlockingRequest {
  msn: number;
  part?: number;
}

/** Where one rendition's live edge is (EXT-X-RENDITION-REPORT). */
export interface RenditionEdge {
  rendition: string;
  lastMsn: number;
  lastPart?: number;
}

/** What the playlist writer's LL-HLS input is made from. */
export interface LowLatencyData {
  partTarget: number;
  /** Parts of the newest listed segments (within `PART_LIST_TARGET_DURATIONS` of the end). */
  segmentParts: { msn: number; parts: PartInfo[] }[];
  /** Parts of the segment being made (the last listed msn + 1). */
  trailingParts: PartInfo[];
  preloadHint: string | null;
  /** Every other rendition's live edge. */
  reports: RenditionEdge[];
}

/** Parts are listed for segments within this many target durations of the playlist's end; older ones are dropped (RFC 8216bis §6.2.2). */
export const PART_LIST_TARGET_DURATIONS = 3;

/** The reads these rules need: the last listed segment of a rendition. */
export interface SegmentEdgeStore {
  lastSegment(rendition: string): { msn: number; epoch: number } | null;
}

/** The part reads these rules need: a PartIndex, or a pushed `BlockingEdge`. */
export type PartSource = Pick<PartIndex, 'of'>;

/**
 * A rendition's live edge as plain data: the last listed segment and the known parts of it and of
 * the segment after it, which is all `holdsRequested` and `renditionEdge` read. The StreamDO pushes
 * it beside each playlist so a subscriber judges blocking requests by the same rules.
 */
export interface BlockingEdge {
  last: { msn: number; epoch: number } | null;
  segments: { msn: number; parts: SegmentParts }[];
}

/** The `BlockingEdge` of `rendition` now. */
export function blockingEdge(store: SegmentEdgeStore, parts: PartSource, rendition: string): BlockingEdge {
  const last = store.lastSegment(rendition);
  if (!last) return { last: null, segments: [] };
  const segments = [last.msn, last.msn + 1].flatMap((msn) => {
    const known = parts.of(rendition, msn);
    return known ? [{ msn, parts: known }] : [];
  });
  return { last: { msn: last.msn, epoch: last.epoch }, segments };
}

/** A pushed `BlockingEdge` read back as the segment and part reads of one rendition. */
export function blockingEdgeReads(edge: BlockingEdge): SegmentEdgeStore & PartSource {
  return {
    lastSegment: () => edge.last,
    of: (_rendition, msn) => edge.segments.find((s) => s.msn === msn)?.parts,
  };
}

/** The parts of the segment after the last listed one, if they belong to its epoch (a new epoch's parts wait for its first segment, which carries the discontinuity). */
function trailing(store: SegmentEdgeStore, parts: PartSource, rendition: string): { msn: number; parts: PartInfo[]; closed: boolean } | undefined {
  const last = store.lastSegment(rendition);
  if (!last) return undefined;
  const next = parts.of(rendition, last.msn + 1);
  return next && next.epoch === last.epoch && next.parts.length > 0 ? { msn: last.msn + 1, parts: next.parts, closed: next.closed } : undefined;
}

/** The live edge of `rendition`: the segment being made and its last part, else the last listed segment. */
export function renditionEdge(store: SegmentEdgeStore, parts: PartSource, rendition: string): RenditionEdge | undefined {
  const last = store.lastSegment(rendition);
  if (!last) return undefined;
  const open = trailing(store, parts, rendition);
  if (open) return { rendition, lastMsn: open.msn, lastPart: open.parts.length - 1 };
  const own = parts.of(rendition, last.msn);
  return own ? { rendition, lastMsn: last.msn, lastPart: own.parts.length - 1 } : { rendition, lastMsn: last.msn };
}

/** How far under the target duration a segment's parts may add up and still make it complete (rounding of part durations). */
const FULL_SEGMENT_SLACK_SECONDS = 0.001;

/** The LL-HLS data of a rendition's playlist over the listed `segments`. */
export function lowLatencyData(
  store: SegmentEdgeStore,
  parts: PartIndex,
  opts: { rendition: string; others: readonly string[]; segments: readonly SegmentInfo[]; partTarget: number; targetDuration: number; epoch: number; live: boolean },
): LowLatencyData {
  const segmentParts: { msn: number; parts: PartInfo[] }[] = [];
  let fromEnd = 0;
  for (let i = opts.segments.length - 1; i >= 0 && fromEnd < PART_LIST_TARGET_DURATIONS * opts.targetDuration; i--) {
    const s = opts.segments[i]!;
    const known = parts.of(opts.rendition, s.msn);
    if (known?.closed) segmentParts.unshift({ msn: s.msn, parts: known.parts });
    fromEnd += s.duration;
  }
  const open = trailing(store, parts, opts.rendition);
  const last = store.lastSegment(opts.rendition);
  let preloadHint: string | null = null;
  if (opts.live && last) {
    // The next part the origin makes: the following one in the open segment, or part 0 of the next
    // segment. The origin closes a segment when the next keyframe's part comes, so a segment whose
    // parts already add up to the target duration (keyframes are forced at that interval) is
    // followed by part 0 of the next one.
    const full = open !== undefined && open.parts.reduce((sum, p) => sum + p.duration, 0) >= opts.targetDuration - FULL_SEGMENT_SLACK_SECONDS;
    if (open && !open.closed && !full) preloadHint = partFileName(open.msn, open.parts.length, opts.epoch);
    else preloadHint = partFileName((open?.msn ?? last.msn) + 1, 0, opts.epoch);
  }
  return {
    partTarget: opts.partTarget,
    segmentParts,
    trailingParts: open?.parts ?? [],
    preloadHint,
    reports: opts.others.flatMap((r) => renditionEdge(store, parts, r) ?? []),
  };
}

/** `_HLS_part` may run at most this many parts ahead of the last one (§6.2.5.2's Advance Part Limit). */
export function advancePartLimit(partTarget: number): number {
  return partTarget < 1 ? Math.ceil(3 / partTarget) : 3;
}

/** Whether the playlist already holds what a blocking request waits for (§6.2.5.2). */
export function holdsRequested(store: SegmentEdgeStore, parts: PartSource, rendition: string, req: BlockingRequest): boolean {
  const last = store.lastSegment(rendition);
  if (!last) return false;
  if (req.part === undefined) return last.msn >= req.msn;
  if (last.msn >= req.msn + 1) return true;
  // A part index past a segment's last part means part 0 of the next segment.
  const own = parts.of(rendition, req.msn);
  // Segment M is listed, so all its parts exist: an index past the known ones is part 0 of M+1.
  if (last.msn === req.msn) return !own || req.part < own.parts.length || holdsRequested(store, parts, rendition, { msn: req.msn + 1, part: 0 });
  const open = trailing(store, parts, rendition);
  return open !== undefined && open.msn === req.msn && req.part < open.parts.length;
}

/** A request the server refuses at once (400): too far past the live edge to be worth holding. */
export function tooFarAhead(edge: RenditionEdge | undefined, req: BlockingRequest, partTarget: number): string | null {
  const lastMsn = edge?.lastMsn ?? -1;
  if (req.msn > lastMsn + 2) return `_HLS_msn=${req.msn} is more than two segments past the last one (${lastMsn})`;
  if (req.part !== undefined && edge && req.msn === edge.lastMsn && edge.lastPart !== undefined && req.part > edge.lastPart + advancePartLimit(partTarget)) {
    return `_HLS_part=${req.part} is more than ${advancePartLimit(partTarget)} parts past the last one (${edge.lastPart})`;
  }
  return null;
}
