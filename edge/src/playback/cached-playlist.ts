import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';
import { isolateMetrics } from '../metrics/isolate-metrics.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { playlistCacheKey } from './playlist-cache-key.ts';
import { playlistResponse, type RenderedPlaylist } from './playlist-response.ts';
import { isolateScope } from '../fanout/isolate-scope.ts';
import { SIM_LOCATION_HEADER } from '../fanout/shard-names.ts';

/** When a cached playlist was rendered (ms since epoch), so an isolate keeps it no longer than its max-age. */
const RENDERED_AT_HEADER = 'X-Edgelive-Rendered-At';
// Playlists are UTF-8 under a media type workerd does not treat as text (Response.text() warns).
const decoder = new TextDecoder();

/** How long an isolate's data center remembers that a stream does not exist (a deleted or unknown id). */
export const NOT_FOUND_CACHE_SECONDS = 5;

/**
 * The Cache API is shared by a data center's isolates. The scale simulation plays several data
 * centers in one workerd (development only), so there each simulated location gets its own keys.
 */
function simulatedLocationKey(c: Context<AppEnv>, key: string): string {
  const location = c.req.header(SIM_LOCATION_HEADER);
  if (!location || c.var.settings.environment !== 'development') return key;
  return `${key}${key.includes('?') ? '&' : '?'}edgelive-sim-location=${encodeURIComponent(location)}`;
}

/** Forgets this isolate's copy of the playlist at `url` (the Cache API entry is the caller's to delete). */
export function forgetRecentPlaylist(c: Context<AppEnv>, url: string): void {
  isolateScope(c).recentPlaylists.delete(playlistCacheKey(url));
}

/** Header of the edge's own cached copy that keeps the stream's playback policy beside the text. */
export const POLICY_HEADER = 'X-Edgelive-Playback-Policy';

/** The cached copy of a rendering: the shared text plus its policy and when it was rendered (only this module reads them back). */
function cacheEntry(p: RenderedPlaylist, renderedAt: number): Response {
  const response = playlistResponse(p);
  if (p.playbackPolicy) response.headers.set(POLICY_HEADER, p.playbackPolicy);
  response.headers.set(RENDERED_AT_HEADER, String(renderedAt));
  return response;
}

/** A StreamDO call made to render a playlist for viewers, counted in the edge's stats (invariant 4). */
export function countedCall<P extends PromiseLike<unknown>>(call: P): P {
  edgeStats.doCalls++;
  return call;
}

/**
 * A playlist as the StreamDO renders it (relative URIs), from this isolate's memory while fresh,
 * else from the Cache API, else from one in-flight `render` per URL in this isolate (which counts
 * its own StreamDO calls with `countedCall`), so Durable Object calls stay far below one per viewer
 * request (and Cache API lookups below one per request). The key keeps only the HLS delivery directives (`playlistCacheKey`): `sid`, `token`
 * and any other parameter are left out. A `stream_not_found` answer is remembered briefly (negative
 * cache), so made-up ids stop at the cache too; other errors are never cached.
 *
 * `fromPush`: this isolate holds a live pushed copy of the stream (`StreamCopies.live`), from which
 * `render` answers in memory; the Cache API is then neither read nor written (a lookup would only
 * add a round trip before every held LL-HLS reload).
 */
export async function cachedPlaylist(c: Context<AppEnv>, render: () => Promise<RenderedPlaylist>, fromPush = false): Promise<RenderedPlaylist> {
  const askedAt = Date.now();
  const cache = caches.default;
  const { recentPlaylists: recent, playlists } = isolateScope(c);
  const url = simulatedLocationKey(c, playlistCacheKey(c.req.url));
  const fresh = recent.get(url, askedAt);
  if (fresh) {
    isolateMetrics.playlistServed('cache', 0);
    return fresh;
  }
  const key = new Request(url, { method: 'GET' });
  const hit = fromPush ? undefined : await cache.match(key);
  if (hit?.status === 404) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (hit) {
    const policy = hit.headers.get(POLICY_HEADER);
    const playlist: RenderedPlaylist = {
      body: decoder.decode(await hit.arrayBuffer()),
      maxAge: Number(/max-age=(\d+)/.exec(hit.headers.get('cache-control') ?? '')?.[1] ?? 1),
      ...(policy === 'signed' || policy === 'public' ? { playbackPolicy: policy } : {}),
    };
    recent.set(url, playlist, Number(hit.headers.get(RENDERED_AT_HEADER) ?? 0), Date.now());
    isolateMetrics.playlistServed('cache', Date.now() - askedAt);
    return playlist;
  }
  const { promise, started } = playlists.run(url, async () => {
    const playlist = await render();
    // Rendered now: fresh for its whole max-age (the Cache API entry says when, for other isolates).
    recent.set(url, playlist, Date.now(), Date.now());
    return playlist;
  });
  // A failed render is answered by the caller's error handler; only successes are cached.
  if (started && !fromPush) {
    const remember = promise.then(
      (p) => cache.put(key, cacheEntry(p, Date.now())),
      (err: unknown) => {
        if (err instanceof EdgeliveError && err.code === 'stream_not_found') {
          return cache.put(key, new Response(null, { status: 404, headers: { 'Cache-Control': `public, max-age=${NOT_FOUND_CACHE_SECONDS}` } }));
        }
      },
    );
    waitUntil(c, remember, 'playlist cache put');
  }
  // Workers' clock moves only across I/O: this is the wait for the StreamDO, not CPU time.
  return promise.finally(() => isolateMetrics.playlistServed('render', Date.now() - askedAt));
}
