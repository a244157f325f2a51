/**
 * Puts a viewer's playback token into every URL a playlist or MPD names, so a player that follows
 * them keeps presenting it. Runs last, on the text already rewritten for CDNs and steering, so CDN
 * choices never depend on the token. Pure: text in, text out.
 */
import { TOKEN_PARAM } from './playback-access.ts';
import { addQueryParamToPlaylist, withQueryParam } from './playlist-query.ts';

// SegmentTemplate URLs of the MPD (ISO/IEC 23009-1 §5.3.9.4); `$Number$` stays before the query.
const MPD_TEMPLATE_ATTRIBUTE = /\b(initialization|media)="([^"]*)"/g;

/** `uri` with `token=` appended to its query. */
export function withToken(uri: string, token: string): string {
  return withQueryParam(uri, TOKEN_PARAM, token);
}

/**
 * Every URI line and `URI="…"` attribute of an HLS playlist (master or media), relative or
 * absolute, carries `token` (SERVER-URI of EXT-X-CONTENT-STEERING is left alone: the steering
 * manifest is not gated).
 */
export function carryTokenInPlaylist(playlist: string, token: string): string {
  return addQueryParamToPlaylist(playlist, TOKEN_PARAM, token, true);
}

/** Every SegmentTemplate `initialization` and `media` URL of an MPD carries `token`. */
export function carryTokenInMpd(mpd: string, token: string): string {
  // The attribute text is XML: the separator is escaped, the token itself (base64url and dots) needs no escaping.
  return mpd.replace(MPD_TEMPLATE_ATTRIBUTE, (_whole, name: string, url: string) => `${name}="${withQueryParam(url, TOKEN_PARAM, token, '&amp;')}"`);
}
