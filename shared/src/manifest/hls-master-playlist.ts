/**
 * HLS multivariant ("master") playlist writer (RFC 8216bis §4.4.6). Pure: values in, text out.
 */

/** One variant stream as the master playlist advertises it. */
export interface MasterVariant {
  /** URI of the variant's media playlist, usually relative (`720p/index.m3u8`). */
  uri: string;
  /** Peak segment bit rate, bit/s (§4.4.6.2 BANDWIDTH). */
  bandwidth: number;
  /** Average segment bit rate, bit/s (§4.4.6.2 AVERAGE-BANDWIDTH). */
  averageBandwidth: number;
  width: number;
  height: number;
  /** RFC 6381 codecs string, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string;
  /** Frames per second; 0 or less leaves FRAME-RATE out. */
  frameRate: number;
}

/** Renders a multivariant playlist listing `variants` from the highest BANDWIDTH down. */
export function renderMasterPlaylist(variants: readonly MasterVariant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  // Array.prototype.sort is stable, so equal bandwidths keep the caller's order.
  const sorted = [...variants].sort((a, b) => b.bandwidth - a.bandwidth);
  for (const v of sorted) {
    lines.push(`#EXT-X-STREAM-INF:${streamInfAttributes(v)}`, v.uri);
  }
  return `${lines.join('\n')}\n`;
}

function streamInfAttributes(v: MasterVariant): string {
  const attributes = [
    `BANDWIDTH=${Math.round(v.bandwidth)}`,
    `AVERAGE-BANDWIDTH=${Math.round(v.averageBandwidth)}`,
    `RESOLUTION=${v.width}x${v.height}`,
    `CODECS="${v.codecs}"`,
  ];
  // §4.4.6.2: FRAME-RATE is a decimal-floating-point "rounded to three decimal places".
  if (v.frameRate > 0) attributes.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
  return attributes.join(',');
}
