/** A playlist as plain values and as an HTTP answer; no Workers APIs, so benchmarks run it in Node. */
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';

/** A rendered playlist, kept as plain values so every coalesced caller builds its own Response. */
export interface RenderedPlaylist {
  body: string;
  /** Seconds a cache (ours, the CDN's, the player's) may keep it. */
  maxAge: number;
  /** The stream's playback policy, read with the playlist data (absent: public). */
  playbackPolicy?: PlaybackPolicy;
}

/** HLS playlists' media type (RFC 8216bis §4). */
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

/** The HTTP answer for a playlist; `visibility` is `private` when it names a session minted for this request. */
export function playlistResponse(p: RenderedPlaylist, visibility: 'public' | 'private' = 'public'): Response {
  return new Response(p.body, {
    headers: { 'Content-Type': PLAYLIST_CONTENT_TYPE, 'Cache-Control': `${visibility}, max-age=${p.maxAge}` },
  });
}

