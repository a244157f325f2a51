import type { Context } from 'hono';
import { EdgeliveError, type ErrorBody } from '../../../shared/src/errors.ts';
import { mediaObjectKey, PART_FILE_PATTERN } from '../../../shared/src/internal-api.ts';
import type { AppEnv } from '../app-env.ts';
import { parseRange } from '../http/byte-range.ts';
import { waitUntil } from '../http/wait-until.ts';
import { hotMedia, type HotFile } from './hot-media.ts';
import { readBodyAtMost } from '../http/read-body-at-most.ts';
import { SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from '../../../shared/src/signing/request-signature.ts';

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

/** How long an origin pull may take before the viewer gets 502 (the origin is loopback or one hop away). */
export const ORIGIN_PULL_TIMEOUT_MS = 5000;

async function fromOrigin(c: Context<AppEnv>, key: string): Promise<{ body: ReadableStream; etag: string | null } | null> {
  const settings = c.var.settings;
  const url = new URL(`${settings.originPullUrl}/${key}`);
  // The origin serves media only to the edge: each pull is signed like the internal API.
  const headers = new Headers();
  if (settings.originSecret !== null) {
    const timestamp = Math.floor(Date.now() / 1000);
    headers.set(TIMESTAMP_HEADER, String(timestamp));
    headers.set(SIGNATURE_HEADER, await signRequest(settings.originSecret, 'GET', url.pathname, timestamp, new Uint8Array()));
  }
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(ORIGIN_PULL_TIMEOUT_MS) });
  } catch (cause) {
    throw new EdgeliveError('upstream_failed', `origin pull of ${key} failed`, { cause });
  }
  if (res.status === 404) return null;
  if (!res.ok || !res.body) throw new EdgeliveError('upstream_failed', `origin pull of ${key} answered ${res.status}`);
  return { body: res.body, etag: res.headers.get('etag') };
}

/** A stored object's body by key: the R2 binding, else the origin's `/media` (null when neither has it). */
export async function readMediaObject(c: Context<AppEnv>, key: string): Promise<{ body: ReadableStream; etag: string | null } | null> {
  return (await fromBucket(c, key)) ?? (await fromOrigin(c, key));
}

/** Headers of a full (200) media answer; also what the Cache API stores. */
function fullHeaders(file: string, etag: string | null): Headers {
  const headers = new Headers({
    'Content-Type': contentType(file),
    'Cache-Control': IMMUTABLE,
    // Cloudflare and other CDNs read CDN-Cache-Control before Cache-Control (RFC 9213).
    'CDN-Cache-Control': IMMUTABLE,
    'Accept-Ranges': 'bytes',
  });
  if (etag) headers.set('ETag', etag);
  return headers;
}

/** The answer to a Range request over the whole file's bytes: 206 with Content-Range, 416, or 200. */
function rangeAnswer(bytes: ArrayBuffer, header: string, headers: Headers): Response {
  const range = parseRange(header, bytes.byteLength);
  if (range.kind === 'full') return new Response(bytes, { headers });
  if (range.kind === 'unsatisfiable') {
    const body: ErrorBody = { error: { code: 'range_not_satisfiable', message: `${header} is outside the ${bytes.byteLength} bytes of this file` } };
    return new Response(JSON.stringify(body), {
      status: 416,
      headers: { 'Content-Type': 'application/json', 'Content-Range': `bytes */${bytes.byteLength}`, 'Cache-Control': 'no-store' },
    });
  }
  const partial = new Headers(headers);
  partial.set('Content-Range', `bytes ${range.start}-${range.end}/${bytes.byteLength}`);
  return new Response(bytes.slice(range.start, range.end + 1), { status: 206, headers: partial });
}

/** The answer from a file held in this isolate's memory (a copy of its bytes: a body is consumed once sent). */
function hotAnswer(file: string, hot: HotFile, range: string | undefined): Response {
  const headers = fullHeaders(file, hot.etag);
  return range ? rangeAnswer(hot.bytes, range, headers) : new Response(hot.bytes.slice(0), { headers });
}

/**
 * Keeps a copy of a full (200) answer's bytes in this isolate's memory, after the answer (a small
 * file only: one whose Content-Length is larger is not read, one without is read up to the limit).
 */
function keepHot(c: Context<AppEnv>, key: string, response: Response): void {
  const length = Number(response.headers.get('content-length') ?? 0);
  if (response.status !== 200 || length > hotMedia.maxFileBytes) {
    void response.body?.cancel();
    return;
  }
  const etag = response.headers.get('etag');
  waitUntil(
    c,
    readBodyAtMost(response, hotMedia.maxFileBytes).then((bytes) => {
      // Its own buffer, exactly the file (a single chunk read may be a view into a larger one).
      if (bytes) hotMedia.set(key, { bytes: bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer, etag });
    }),
    'hot media copy',
  );
}

/**
 * Serves one init or media segment: this isolate's memory (hot-media.ts), the Cache API, then the
 * R2 binding, then the origin as fallback (an upload may not have reached R2 yet, or R2 is not the
 * store). Never calls the StreamDO. Range requests: the Cache API answers them itself from the
 * stored full body; on a miss the whole file is read once (R2 or origin), cached as a 200 (the
 * Cache API refuses 206) and sliced.
 */
export async function serveMediaFile(c: Context<AppEnv>, streamId: string, rendition: string, file: string): Promise<Response> {
  const cache = caches.default;
  // The query string does not select bytes; dropping it keeps one cache entry per file.
  const url = new URL(c.req.url);
  const cacheUrl = `${url.origin}${url.pathname}`;
  const range = c.req.header('range');
  const hot = hotMedia.get(cacheUrl);
  if (hot) return hotAnswer(file, hot, range);
  const cacheKey = new Request(cacheUrl, { method: 'GET' });
  const hit = await cache.match(range ? new Request(cacheUrl, { headers: { range } }) : cacheKey);
  if (hit) {
    if (!range) keepHot(c, cacheUrl, hit.clone());
    return new Response(hit.body, hit);
  }

  const key = mediaObjectKey(streamId, rendition, file);
  // LL-HLS parts live only in the origin's memory (never stored): no bucket read for them.
  const found = PART_FILE_PATTERN.test(file) ? await fromOrigin(c, key) : ((await fromBucket(c, key)) ?? (await fromOrigin(c, key)));
  if (!found) throw new EdgeliveError('not_found', `${rendition}/${file} not found`);
  const headers = fullHeaders(file, found.etag);
  if (range) {
    const bytes = await new Response(found.body).arrayBuffer();
    waitUntil(c, cache.put(cacheKey, new Response(bytes.slice(0), { headers })), 'segment cache put');
    if (bytes.byteLength <= hotMedia.maxFileBytes) hotMedia.set(cacheUrl, { bytes: bytes.slice(0), etag: found.etag });
    return rangeAnswer(bytes, range, headers);
  }
  const response = new Response(found.body, { headers });
  waitUntil(c, cache.put(cacheKey, response.clone()), 'segment cache put');
  keepHot(c, cacheUrl, response.clone());
  return response;
}
