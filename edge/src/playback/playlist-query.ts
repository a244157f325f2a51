/** Query parameters added to the URIs a playlist names (session ids, playback tokens). Pure. */

/** `uri` with `name=value` appended to its query (`separator` `&amp;` inside XML attributes). */
export function withQueryParam(uri: string, name: string, value: string, separator = '&'): string {
  return `${uri}${uri.includes('?') ? separator : '?'}${name}=${encodeURIComponent(value)}`;
}

// URI attributes of HLS tags: EXT-X-MAP, EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT,
// EXT-X-MEDIA (RFC 8216bis §4.4); SERVER-URI (EXT-X-CONTENT-STEERING) does not match.
const URI_ATTRIBUTE = /([:,])URI="([^"]*)"/g;

/**
 * Every URI line of an HLS playlist (lines not starting with `#`) carries `name=value`; with
 * `uriAttributes`, every `URI="…"` attribute too.
 */
export function addQueryParamToPlaylist(playlist: string, name: string, value: string, uriAttributes: boolean): string {
  return playlist
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      if (line.charCodeAt(0) !== 35 /* # */) return withQueryParam(line, name, value);
      if (!uriAttributes || !line.includes('URI="')) return line;
      return line.replace(URI_ATTRIBUTE, (_whole, lead: string, uri: string) => `${lead}URI="${withQueryParam(uri, name, value)}"`);
    })
    .join('\n');
}
