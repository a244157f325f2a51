import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';
import { isolateMetrics } from '../metrics/isolate-metrics.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { Coalescer } from './coalescer.ts';
import { playlistResponse, type RenderedPlaylist } from './playlist-response.ts';

const playlists = new Coalescer<RenderedPlaylist>();
// Playlists are UTF-8 under a media type workerd does not treat as text (Response.text() warns).
const decoder = new TextDecoder();

/** Query parameters that personalise a playlist but never change what the StreamDO renders. */
const VIEWER_PARAMS = ['sid'];

/** The request URL without viewer parameters: every session shares one cache entry and one render. */
function sharedUrl(requestUrl: string): string {
  const url = new URL(requestUrl);
  if (!VIEWER_PARAMS.some((p) => url.searchParams.has(p))) return requestUrl;
  for (const p of VIEWER_PARAMS) url.searchParams.delete(p);
  return url.toString();
}

/**
 * A playlist as the StreamDO renders it (relative URIs), from the Cache API, else from one
 * in-flight `render` per URL in this isolate, so Durable Object calls stay far below one per
 * viewer request. Viewer parameters (`sid`) are left out of the key. Errors are never cached.
 */
export async function cachedPlaylist(c: Context<AppEnv>, render: () => Promise<RenderedPlaylist>): Promise<RenderedPlaylist> {
  const askedAt = Date.now();
  const cache = caches.default;
  const url = sharedUrl(c.req.url);
  const key = new Request(url, { method: 'GET' });
  const hit = await cache.match(key);
  if (hit) {
    isolateMetrics.playlistServed('cache', Date.now() - askedAt);
    return { body: decoder.decode(await hit.arrayBuffer()), maxAge: Number(/max-age=(\d+)/.exec(hit.headers.get('cache-control') ?? '')?.[1] ?? 1) };
  }
  const { promise, started } = playlists.run(url, () => {
    edgeStats.doCalls++;
    return render();
  });
  // A failed render is answered by the caller's error handler; only successes are cached.
  if (started) waitUntil(c, promise.then((p) => cache.put(key, playlistResponse(p)), () => undefined), 'playlist cache put');
  // Workers' clock moves only across I/O: this is the wait for the StreamDO, not CPU time.
  return promise.finally(() => isolateMetrics.playlistServed('render', Date.now() - askedAt));
}
