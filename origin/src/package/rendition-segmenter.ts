import { concatBytes } from '../../../shared/src/bytes/concat-bytes.ts';
import { parseFragment } from '../../../shared/src/mp4/fmp4-fragment-info.ts';
import { parseInitSegment, type InitInfo, type TrackInfo } from '../../../shared/src/mp4/fmp4-init-info.ts';

/** A media segment cut by the origin: whole fragments, starting at a sync sample. */
export interface PackagedSegment {
  msn: number;
  /** Seconds, from the video track's sample durations. */
  duration: number;
  /** Decode time of the first frame, seconds on this rendition's timeline. */
  startSeconds: number;
  /** Wall clock of the first frame (ms since epoch), shared anchor across renditions. */
  programDateTime: number;
  /**
   * Wall clock (ms since epoch) of decode time 0 on this encoder run's timeline, the same for every
   * segment of the run: `programDateTime - timelineOrigin` is the segment's decode time in ms, which
   * DASH SegmentTimelines need.
   */
  timelineOrigin: number;
  bytes: Uint8Array;
}

/** An LL-HLS partial segment: one fragment of segment `msn`, as ffmpeg wrote it. */
export interface PackagedPart {
  msn: number;
  /** Index of the part in its segment, from 0. */
  part: number;
  /** Seconds, from the video track's sample durations. */
  duration: number;
  /** Starts with a sync sample (EXT-X-PART INDEPENDENT=YES). */
  independent: boolean;
  /**
   * The segment closes with this part: the next part is part 0 of the next segment. Known only for
   * whole-GOP fragments; with shorter ones the segment closes when the next keyframe's part arrives,
   * so part 0 of a segment is what says the previous one is complete.
   */
  last: boolean;
  bytes: Uint8Array;
}

/** What one fragment yields: the part it is (if it went into a segment) and the segment it closed. */
export interface SegmenterOutput {
  part: PackagedPart | null;
  segment: PackagedSegment | null;
}

/** How close to the target a segment must be before a sync fragment closes it. */
export const SEGMENT_CLOSE_RATIO = 0.9;

/**
 * Groups one rendition's fragments into segments of about `targetSeconds`, cutting only at
 * fragments that start with a sync sample. All renditions of a stream come out of one ffmpeg with
 * aligned keyframes, so the same rule cuts every rendition at the same timestamps (invariant 5).
 * Pure: timing comes from the bytes and from the wall-clock anchor passed in.
 */
export class RenditionSegmenter {
  readonly #targetSeconds: number;
  readonly #anchorWallMs: number;
  #nextMsn: number;
  #init: InitInfo | undefined;
  #timing: TrackInfo | undefined;
  #firstDecodeSeconds: number | undefined;
  #open: { parts: Uint8Array[]; bytes: number; start: number; duration: number } | undefined;
  /** Fragments shorter than a GOP were seen (LL-HLS parts): segments close at the next keyframe. */
  #subGop = false;

  constructor(opts: { targetSeconds: number; firstMsn: number; anchorWallMs: number }) {
    this.#targetSeconds = opts.targetSeconds;
    this.#nextMsn = opts.firstMsn;
    this.#anchorWallMs = opts.anchorWallMs;
  }

  /** Takes the init segment; returns what it says about the tracks. */
  init(bytes: Uint8Array): InitInfo {
    this.#init = parseInitSegment(bytes);
    this.#timing = this.#init.tracks.find((t) => t.kind === 'video') ?? this.#init.tracks[0];
    if (!this.#timing) throw new Error('init segment has no tracks');
    return this.#init;
  }

  /** Takes one fragment; returns a segment when this fragment completes one. */
  fragment(bytes: Uint8Array): PackagedSegment | null {
    return this.cut(bytes).segment;
  }

  /**
   * Takes one fragment; returns it as a part of the open segment, and the segment when one is
   * complete. Whole-GOP fragments (every one starts with a sync sample) close a segment as soon as it
   * is long enough: waiting for the next keyframe would add a GOP of latency. Shorter fragments
   * (LL-HLS parts, `-frag_duration`) close it only when the next keyframe's fragment arrives: a
   * segment must end where the next one can begin, and the fragments between an early close and the
   * next keyframe would otherwise be lost (at 25 fps with 0.333 s parts: 2 frames of every 2 s GOP).
   */
  cut(bytes: Uint8Array): SegmenterOutput {
    if (!this.#init || !this.#timing) throw new Error('fragment before init segment');
    const timing = this.#timing;
    const info = parseFragment(bytes, this.#init).find((t) => t.trackId === timing.trackId);
    if (!info) return { part: null, segment: null }; // a fragment without the timing track carries nothing to cut on
    const start = info.baseDecodeTime / timing.timescale;
    const duration = info.duration / timing.timescale;
    this.#firstDecodeSeconds ??= start;
    if (!info.startsWithSync) this.#subGop = true;
    const longEnough = () => this.#open !== undefined && this.#open.duration >= this.#targetSeconds * SEGMENT_CLOSE_RATIO;
    // Sub-GOP fragments: the segment ends here, where a keyframe starts the next.
    const closed = this.#subGop && info.startsWithSync && longEnough() ? this.#close() : null;
    if (!this.#open) {
      if (!info.startsWithSync) return { part: null, segment: closed }; // wait for a keyframe: a segment must be independent
      this.#open = { parts: [], bytes: 0, start, duration: 0 };
    }
    const index = this.#open.parts.length;
    this.#open.parts.push(bytes);
    this.#open.bytes += bytes.length;
    this.#open.duration += duration;
    // Whole-GOP fragments: the next one starts with a keyframe anyway, so close now.
    const closesNow = !this.#subGop && longEnough();
    const part: PackagedPart = { msn: this.#nextMsn, part: index, duration: Math.round(duration * 1e6) / 1e6, independent: info.startsWithSync, last: closesNow, bytes };
    return { part, segment: closesNow ? this.#close() : closed };
  }

  /** Closes the open segment at end of stream, if any. */
  flush(): PackagedSegment | null {
    return this.#open && this.#open.duration > 0 ? this.#close() : null;
  }

  /** The msn the next segment will get. */
  get nextMsn(): number {
    return this.#nextMsn;
  }

  #close(): PackagedSegment {
    const open = this.#open!;
    this.#open = undefined;
    const bytes = concatBytes(open.parts, open.bytes);
    const offsetMs = (open.start - (this.#firstDecodeSeconds ?? open.start)) * 1000;
    return {
      msn: this.#nextMsn++,
      duration: Math.round(open.duration * 1e6) / 1e6,
      startSeconds: open.start,
      programDateTime: Math.round(this.#anchorWallMs + offsetMs),
      timelineOrigin: Math.round(this.#anchorWallMs - (this.#firstDecodeSeconds ?? open.start) * 1000),
      bytes,
    };
  }
}
