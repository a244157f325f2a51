/** Makes a media playlist's URIs absolute on a CDN, line by line. Pure: text in, text out. */

// URI attributes of media playlist tags (EXT-X-MAP, and with LL-HLS EXT-X-PART, EXT-X-PRELOAD-HINT,
// EXT-X-RENDITION-REPORT): RFC 8216bis §4.4.4.5, §4.4.4.9, §4.4.5.3, §4.4.5.4.
const URI_ATTRIBUTE = /([:,])URI="([^"]*)"/g;

/** True for a URI already carrying a scheme (left alone). */
function isAbsolute(uri: string): boolean {
  return uri.includes('://');
}

/**
 * Rewrites every relative URI of `playlist` (segment lines and `URI="…"` attributes) through
 * `absolute`, which gets the URI as written (`seg-42-e1.m4s`, `init-1.mp4`). Tags and order are kept.
 */
export function rewriteMediaPlaylist(playlist: string, absolute: (uri: string) => string): string {
  const lines = playlist.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if (line.charCodeAt(0) !== 35 /* # */) {
      if (!isAbsolute(line)) lines[i] = absolute(line);
    } else if (line.includes('URI="')) {
      lines[i] = line.replace(URI_ATTRIBUTE, (whole, lead: string, uri: string) => (isAbsolute(uri) ? whole : `${lead}URI="${absolute(uri)}"`));
    }
  }
  return lines.join('\n');
}
