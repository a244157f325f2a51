/**
 * Puts a viewer's playback token into every URL a playlist or MPD names, so a player that follows
 * them keeps presenting it. Runs last, on the text already rewritten for CDNs and steering, so CDN
 * choices never depend on the token. Pure: text in, text out.
 */
import { TOKEN_PARAM } from './playback-access.ts';

// URI attributes of HLS tags: EXT-X-MAP, EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT,
// EXT-X-MEDIA (RFC 8216bis §4.4). SERVER-URI of EXT-X-CONTENT-STEERING is left alone: the steering
// manifest is not gated.
const URI_ATTRIBUTE = /([:,])URI="([^"]*)"/g;
// SegmentTemplate URLs of the MPD (ISO/IEC 23009-1 §5.3.9.4); `$Number$` stays before the query.
const MPD_TEMPLATE_ATTRIBUTE = /\b(initialization|media)="([^"]*)"/g;

/** `uri` with `token=` appended to its query. */
export function withToken(uri: string, token: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}${TOKEN_PARAM}=${encodeURIComponent(token)}`;
}

/** Every URI line and `URI="…"` attribute of an HLS playlist (master or media), relative or absolute, carries `token`. */
export function carryTokenInPlaylist(playlist: string, token: string): string {
  return playlist
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      if (line.charCodeAt(0) !== 35 /* # */) return withToken(line, token);
      return line.includes('URI="') ? line.replace(URI_ATTRIBUTE, (_whole, lead: string, uri: string) => `${lead}URI="${withToken(uri, token)}"`) : line;
    })
    .join('\n');
}

/** Every SegmentTemplate `initialization` and `media` URL of an MPD carries `token`. */
export function carryTokenInMpd(mpd: string, token: string): string {
  // The attribute text is XML: the separator is escaped, the token itself (base64url and dots) needs no escaping.
  return mpd.replace(MPD_TEMPLATE_ATTRIBUTE, (_whole, name: string, url: string) => `${name}="${url}${url.includes('?') ? '&amp;' : '?'}${TOKEN_PARAM}=${encodeURIComponent(token)}"`);
}
