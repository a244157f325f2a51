import type { Ladder } from '../types.ts';

/** The ladder a stream gets when it names none: 1080p..360p plus AAC 128k. */
export const DEFAULT_LADDER: Ladder = Object.freeze({
  rungs: Object.freeze([
    { name: '1080p', height: 1080, videoKbps: 5000 },
    { name: '720p', height: 720, videoKbps: 2800 },
    { name: '480p', height: 480, videoKbps: 1400 },
    { name: '360p', height: 360, videoKbps: 800 },
  ]) as Ladder['rungs'],
  audioKbps: 128,
}) as Ladder;

/** Default segment duration in seconds. */
export const DEFAULT_SEGMENT_SECONDS = 2;
