import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { mediaObjectKey } from '../../../shared/src/internal-api.ts';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';

/** Media files the edge serves: CMAF init segments and media segments, nothing else. */
export const MEDIA_FILE_RE = /^(?:init-\d{1,10}\.mp4|seg-\d{1,12}\.m4s)$/;

/** Stored media never changes under a name (a new epoch gets a new init file), so it is immutable. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function contentType(file: string): string {
  // RFC 8216bis §3.1.2 and the CMAF spec: init segments are video/mp4, fragments video/iso.segment.
  return file.startsWith('init-') ? 'video/mp4' : 'video/iso.segment';
}

async function fromBucket(c: Context<AppEnv>, key: string): Promise<{ body: ReadableStream; etag: string | null } | null> {
  const object = await c.env.MEDIA.get(key);
  return object ? { body: object.body, etag: object.httpEtag } : null;
}

async function fromOrigin(c: Context<AppEnv>, key: string): Promise<{ body: ReadableStream; etag: string | null } | null> {
  const url = `${c.var.settings.originPullUrl}/${key}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (cause) {
    throw new EdgeliveError('upstream_failed', `origin pull of ${key} failed`, { cause });
  }
  if (res.status === 404) return null;
  if (!res.ok || !res.body) throw new EdgeliveError('upstream_failed', `origin pull of ${key} answered ${res.status}`);
  return { body: res.body, etag: res.headers.get('etag') };
}

/**
 * Serves one init or media segment: Cache API, then the R2 binding, then the origin as fallback
 * (an upload may not have reached R2 yet, or R2 is not the store). Never calls the StreamDO.
 */
export async function serveMediaFile(c: Context<AppEnv>, streamId: string, rendition: string, file: string): Promise<Response> {
  const cache = caches.default;
  // The query string does not select bytes; dropping it keeps one cache entry per file.
  const url = new URL(c.req.url);
  const cacheKey = new Request(`${url.origin}${url.pathname}`, { method: 'GET' });
  const hit = await cache.match(cacheKey);
  if (hit) return new Response(hit.body, hit);

  const key = mediaObjectKey(streamId, rendition, file);
  const found = (await fromBucket(c, key)) ?? (await fromOrigin(c, key));
  if (!found) throw new EdgeliveError('not_found', `${rendition}/${file} not found`);
  const headers = new Headers({ 'Content-Type': contentType(file), 'Cache-Control': IMMUTABLE });
  if (found.etag) headers.set('ETag', found.etag);
  const response = new Response(found.body, { headers });
  waitUntil(c, cache.put(cacheKey, response.clone()), 'segment cache put');
  return response;
}
