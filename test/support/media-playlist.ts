/** A small reader of HLS media playlists for the end-to-end tests and the soak run. Pure. */

/** One segment of a media playlist with the tags that apply to it. */
export interface MediaPlaylistEntry {
  /** EXT-X-MEDIA-SEQUENCE plus the segment's position (RFC 8216bis §4.4.3.2): what a player calls it. */
  msn: number;
  uri: string;
  duration: number;
  /** EXT-X-GAP: listed, but not to be loaded. */
  gap: boolean;
  discontinuity: boolean;
  /** ms since epoch: its own EXT-X-PROGRAM-DATE-TIME, or extrapolated from the last one before it. */
  programDateTime: number | undefined;
  /** The URI of the EXT-X-MAP in force. */
  map: string | undefined;
  /** The media sequence number and epoch the file name carries (`seg-<msn>-e<epoch>.m4s`). */
  file: { msn: number; epoch: number | undefined } | undefined;
}

/** A parsed media playlist. */
export interface MediaPlaylist {
  mediaSequence: number;
  targetDuration: number;
  endList: boolean;
  entries: MediaPlaylistEntry[];
}

const FILE_RE = /seg-(\d+)(?:-e(\d+))?\.m4s/;

/** Parses a media playlist; throws naming the line when it is not one. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split('\n').map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new Error(`not a playlist: first line is ${JSON.stringify(lines[0])}`);
  let mediaSequence = 0;
  let targetDuration = 0;
  let endList = false;
  let map: string | undefined;
  let pending: { duration?: number; gap: boolean; discontinuity: boolean; pdt?: number } = { gap: false, discontinuity: false };
  const entries: MediaPlaylistEntry[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice(22));
    else if (line === '#EXT-X-ENDLIST') endList = true;
    else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]+)"/.exec(line)?.[1];
    else if (line.startsWith('#EXTINF:')) pending.duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-GAP') pending.gap = true;
    else if (line === '#EXT-X-DISCONTINUITY') pending.discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pending.pdt = Date.parse(line.slice(25));
    else if (!line.startsWith('#')) {
      if (pending.duration === undefined) throw new Error(`segment ${line} has no EXTINF`);
      const previous = entries.at(-1);
      const extrapolated = previous?.programDateTime === undefined ? undefined : previous.programDateTime + previous.duration * 1000;
      const m = FILE_RE.exec(line);
      entries.push({
        msn: mediaSequence + entries.length,
        uri: line,
        duration: pending.duration,
        gap: pending.gap,
        discontinuity: pending.discontinuity,
        programDateTime: pending.pdt ?? extrapolated,
        map,
        file: m ? { msn: Number(m[1]), epoch: m[2] === undefined ? undefined : Number(m[2]) } : undefined,
      });
      pending = { gap: false, discontinuity: false };
    }
  }
  return { mediaSequence, targetDuration, endList, entries };
}
