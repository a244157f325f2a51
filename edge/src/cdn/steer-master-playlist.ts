/**
 * Adds HLS Content Steering to a multivariant playlist (Apple "HLS Content Steering Specification",
 * RFC 8216bis §4.4.6.6). Pure: text in, text out.
 */

/** One pathway (a CDN) as the master playlist lists it. */
export interface MasterPathway {
  /** PATHWAY-ID of its variants. */
  id: string;
  /** Prepended to each relative variant URI, e.g. `https://cdn-a.example/live/<id>/`. */
  prefix: string;
}

/** What steering adds to the master playlist. */
export interface MasterSteering {
  /** Pathways in the viewer's priority order; the first is the initial PATHWAY-ID. */
  pathways: readonly MasterPathway[];
  /** Absolute URI of the steering manifest (SERVER-URI). */
  serverUri: string;
  /** Appended to every variant URI, e.g. `?sid=…`. */
  query: string;
}

/**
 * Rewrites a multivariant playlist whose variant URIs are relative: the header stays, an
 * EXT-X-CONTENT-STEERING tag follows it, then every variant is listed once per pathway with
 * `PATHWAY-ID` and an absolute URI on that pathway. With no pathway, the variant URIs only get
 * `query` (the edge serves from its own host).
 */
export function steerMasterPlaylist(playlist: string, steering: MasterSteering): string {
  const lines = playlist.split('\n');
  const header: string[] = [];
  const variants: { inf: string; uri: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#EXT-X-STREAM-INF:')) {
      variants.push({ inf: line, uri: lines[i + 1] ?? '' });
      i++;
    } else if (line !== '') {
      header.push(line);
    }
  }
  const out = header;
  if (steering.pathways.length === 0) {
    for (const v of variants) out.push(v.inf, `${v.uri}${steering.query}`);
    return `${out.join('\n')}\n`;
  }
  out.push(`#EXT-X-CONTENT-STEERING:SERVER-URI="${steering.serverUri}",PATHWAY-ID="${steering.pathways[0]!.id}"`);
  for (const p of steering.pathways) {
    for (const v of variants) out.push(`${v.inf},PATHWAY-ID="${p.id}"`, `${p.prefix}${v.uri}${steering.query}`);
  }
  return `${out.join('\n')}\n`;
}
