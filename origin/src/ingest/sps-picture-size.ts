import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// node-media-server ships an H.264 SPS parser (src/protocol/sps_info.js); reuse it rather than keep a second one.
const { parseH264Sps } = require('node-media-server/src/protocol/sps_info.js') as {
  parseH264Sps: (sps: Buffer) => { width: number; height: number } | null;
};

/** Picture size from an H.264 SPS NAL unit, or undefined when it cannot be read. */
export function pictureSizeFromSps(sps: Uint8Array): { width: number; height: number } | undefined {
  // NAL type 7 with at least profile, constraints, level and some payload; the parser itself
  // reads past the end as zeros instead of failing.
  if (sps.length < 8 || (sps[0]! & 0x1f) !== 7) return undefined;
  return parseH264Sps(Buffer.from(sps)) ?? undefined;
}
