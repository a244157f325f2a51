import { execFileSync } from 'node:child_process';

/** Test helper: the SPS and PPS NAL units of a tiny real H.264 stream that the system ffmpeg encodes. */
export function encodeH264ParameterSets(opts: { width: number; height: number; pixFmt?: string }): { sps: Uint8Array; pps: Uint8Array } {
  const annexB = execFileSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel', 'error',
      '-f', 'lavfi',
      '-i', `testsrc2=size=${opts.width}x${opts.height}:rate=10`,
      '-t', '0.2',
      '-pix_fmt', opts.pixFmt ?? 'yuv420p',
      '-c:v', 'libx264',
      '-f', 'h264',
      '-',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const nals = splitAnnexB(new Uint8Array(annexB));
  const sps = nals.find((n) => (n[0]! & 0x1f) === 7);
  const pps = nals.find((n) => (n[0]! & 0x1f) === 8);
  if (!sps || !pps) throw new Error('ffmpeg produced no SPS/PPS');
  return { sps, pps };
}

/** Splits an Annex B byte stream at its 00 00 01 start codes (trailing zero bytes are never part of a NAL). */
function splitAnnexB(bytes: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((start, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : bytes.length;
    while (end > start && bytes[end - 1] === 0) end--;
    return bytes.slice(start, end);
  });
}
