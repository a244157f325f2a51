import type { Ladder, SourceInfo } from '../../../shared/src/types.ts';

/** One output rendition of a transcode job. */
export interface PlannedRendition {
  name: string;
  height: number;
  videoKbps: number;
  /** The source's H.264 is copied, not re-encoded. */
  passthrough: boolean;
}

/** The renditions a source gets, and the audio bitrate they share. */
export interface TranscodePlan {
  renditions: PlannedRendition[];
  audioKbps: number;
}

/** A source may exceed a rung's bitrate by this much and still be passed through. */
export const PASSTHROUGH_BITRATE_SLACK = 1.1;

/**
 * Fits a ladder to a source: never above the source's height; the top rung copies the source when
 * it is H.264 at that rung's height and within its bitrate (a source that declares no bitrate is
 * re-encoded, since nothing bounds it). A source smaller than every rung gets one rung at its own height.
 */
export function planLadder(ladder: Ladder, source: SourceInfo): TranscodePlan {
  const byHeight = [...ladder.rungs].sort((a, b) => b.height - a.height);
  let rungs = byHeight.filter((r) => r.height <= source.height);
  if (rungs.length === 0) {
    const smallest = byHeight[byHeight.length - 1]!;
    rungs = [{ name: `${source.height}p`, height: source.height, videoKbps: smallest.videoKbps }];
  }
  const renditions = rungs.map((r, i) => ({
    name: r.name,
    height: r.height,
    videoKbps: r.videoKbps,
    passthrough:
      i === 0 &&
      source.videoCodec === 'h264' &&
      source.height === r.height &&
      source.videoKbps > 0 &&
      source.videoKbps <= r.videoKbps * PASSTHROUGH_BITRATE_SLACK,
  }));
  return { renditions, audioKbps: ladder.audioKbps };
}
