import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';
import { Coalescer } from './coalescer.ts';

/** A rendered playlist, kept as plain values so every coalesced caller builds its own Response. */
export interface RenderedPlaylist {
  body: string;
  /** Seconds a cache (ours, the CDN's, the player's) may keep it. */
  maxAge: number;
}

/** HLS playlists' media type (RFC 8216bis §4). */
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

const playlists = new Coalescer<RenderedPlaylist>();

function playlistResponse(p: RenderedPlaylist): Response {
  return new Response(p.body, {
    headers: { 'Content-Type': PLAYLIST_CONTENT_TYPE, 'Cache-Control': `public, max-age=${p.maxAge}` },
  });
}

/**
 * Serves a playlist from the Cache API, else from one in-flight `render` per URL in this isolate,
 * so Durable Object calls stay far below one per viewer request. Errors are never cached.
 */
export async function serveCachedPlaylist(c: Context<AppEnv>, render: () => Promise<RenderedPlaylist>): Promise<Response> {
  const cache = caches.default;
  const key = new Request(c.req.url, { method: 'GET' });
  const hit = await cache.match(key);
  // A copy: cached responses have immutable headers and the CORS middleware adds one.
  if (hit) return new Response(hit.body, hit);
  const { promise, started } = playlists.run(c.req.url, render);
  // A failed render is answered by the caller's error handler; only successes are cached.
  if (started) waitUntil(c, promise.then((p) => cache.put(key, playlistResponse(p)), () => undefined), 'playlist cache put');
  return playlistResponse(await promise);
}
