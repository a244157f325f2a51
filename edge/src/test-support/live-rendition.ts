/**
 * Test data: one live LL-HLS rendition as the StreamDO pushes it (2 s segments, parts of a third of
 * a second, epoch 1), for the tests of the push and of the copies that read it.
 */
import type { PartInfo } from '../stream-do/part-index.ts';
import type { MediaPlaylistData } from '../stream-do/playlist-data.ts';
import type { PushedRendition } from '../stream-do/playlist-push.ts';

/** Part `i` of segment `msn` (part 0 starts with a keyframe). */
export const livePart = (msn: number, i: number): PartInfo => ({ file: `part-${msn}-${i}-e1.m4s`, duration: 0.33333, independent: i === 0 });

/**
 * Segments `msn − listed` … `msn − 1` listed, the parts (6 each) of the last `withParts` of them,
 * `parts` parts of segment `msn` made so far, and a rendition report per name in `reports`;
 * `overrides` replace playlist fields.
 */
export function liveRendition(msn: number, parts: number, opts: { listed: number; withParts?: number; reports?: readonly string[]; overrides?: Partial<MediaPlaylistData> }): PushedRendition {
  const listed = Array.from({ length: opts.listed }, (_, i) => msn - opts.listed + i);
  const trailingParts = Array.from({ length: parts }, (_, i) => livePart(msn, i));
  const playlist: MediaPlaylistData = {
    status: 'live',
    playbackPolicy: 'public',
    endedAt: null,
    dvrWindowSeconds: 0,
    targetDuration: 2,
    discontinuitySequence: 0,
    segments: listed.map((m) => ({ msn: m, duration: 2, programDateTime: 1_700_000_000_000 + m * 2000, file: `seg-${m}-e1.m4s`, initFile: 'init-1.mp4', bytes: 400_000, discontinuity: false, gap: false })),
    lowLatency: {
      partTarget: 0.33333,
      segmentParts: listed.slice(listed.length - (opts.withParts ?? 0)).map((m) => ({ msn: m, parts: Array.from({ length: 6 }, (_, i) => livePart(m, i)) })),
      trailingParts,
      preloadHint: `part-${msn}-${parts}-e1.m4s`,
      reports: (opts.reports ?? []).map((r) => ({ rendition: r, lastMsn: msn - 1, lastPart: parts - 1 })),
    },
    ...opts.overrides,
  };
  return { playlist, edge: { last: { msn: msn - 1, epoch: 1 }, segments: parts ? [{ msn, parts: { epoch: 1, closed: false, parts: trailingParts } }] : [] } };
}
