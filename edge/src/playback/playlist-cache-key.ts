/**
 * The cache and coalescing key of a playlist request: its path plus only the query parameters that
 * change what the StreamDO renders. Anything else a client appends (`?x=1`, `sid`, a cache buster)
 * is dropped, so it can neither miss the cache nor reach the StreamDO. Pure.
 */

/**
 * HLS delivery directives (RFC 8216bis §6.2.5: blocking reload and delta updates). They select a
 * different playlist, so they are part of the key; nothing else is.
 */
export const PLAYLIST_KEY_PARAMS = ['_HLS_msn', '_HLS_part', '_HLS_skip'] as const;

/** Longest value kept for a directive; longer ones are not directives (the route refuses them). */
const MAX_VALUE_LENGTH = 16;

/** `requestUrl` reduced to origin, path and the allowed parameters in a fixed order. */
export function playlistCacheKey(requestUrl: string): string {
  const url = new URL(requestUrl);
  const kept = new URLSearchParams();
  for (const name of PLAYLIST_KEY_PARAMS) {
    const value = url.searchParams.get(name);
    if (value !== null && value.length <= MAX_VALUE_LENGTH) kept.set(name, value);
  }
  const query = kept.toString();
  return `${url.origin}${url.pathname}${query ? `?${query}` : ''}`;
}
