import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { Coalescer } from './coalescer.ts';

/** A rendered playlist, kept as plain values so every coalesced caller builds its own Response. */
export interface RenderedPlaylist {
  body: string;
  /** Seconds a cache (ours, the CDN's, the player's) may keep it. */
  maxAge: number;
}

/** How one request is served from the shared (per-URL-without-session) playlist. */
export interface PlaylistServeOptions {
  /** Cache and coalescing key; the request URL when unset. Viewer session ids are left out of it. */
  key?: string;
  /** Per-viewer rewrite of the shared body, e.g. adding `?sid=` to variant URIs. */
  personalize?: (body: string) => string;
  /** False when the answer carries a freshly minted session: no shared cache may keep it. */
  shared?: boolean;
}

/** HLS playlists' media type (RFC 8216bis §4). */
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';

const playlists = new Coalescer<RenderedPlaylist>();

function playlistResponse(p: RenderedPlaylist, shared = true): Response {
  return new Response(p.body, {
    headers: { 'Content-Type': PLAYLIST_CONTENT_TYPE, 'Cache-Control': `${shared ? 'public' : 'private'}, max-age=${p.maxAge}` },
  });
}

/**
 * Serves a playlist from the Cache API, else from one in-flight `render` per key in this isolate,
 * so Durable Object calls stay far below one per viewer request. Errors are never cached.
 */
export async function serveCachedPlaylist(c: Context<AppEnv>, render: () => Promise<RenderedPlaylist>, opts: PlaylistServeOptions = {}): Promise<Response> {
  const cache = caches.default;
  const keyUrl = opts.key ?? c.req.url;
  const key = new Request(keyUrl, { method: 'GET' });
  const personal = (p: RenderedPlaylist) => playlistResponse(opts.personalize ? { ...p, body: opts.personalize(p.body) } : p, opts.shared ?? true);
  const hit = await cache.match(key);
  if (hit) {
    // A copy: cached responses have immutable headers and the CORS middleware adds one.
    if (!opts.personalize && opts.shared !== false) return new Response(hit.body, hit);
    const maxAge = Number(/max-age=(\d+)/.exec(hit.headers.get('cache-control') ?? '')?.[1] ?? 1);
    return personal({ body: await hit.text(), maxAge });
  }
  const { promise, started } = playlists.run(keyUrl, () => {
    edgeStats.doCalls++;
    return render();
  });
  // A failed render is answered by the caller's error handler; only successes are cached.
  if (started) waitUntil(c, promise.then((p) => cache.put(key, playlistResponse(p)), () => undefined), 'playlist cache put');
  return personal(await promise);
}
