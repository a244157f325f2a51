/**
 * Whether a stream's media may still be served: exists, not deleted, not ended past its retention.
 * Media files never carried a StreamDO call, and the Cache API keeps them for a year, so without
 * this a deleted stream's segments would stay playable. While this isolate holds a pushed copy of
 * the stream (its playlists are watched here), the verdict is read from that copy, which every
 * change (a deletion included) reaches at once: no call, no wait. Otherwise it is cached for one second per
 * data center under an internal key and coalesced per isolate: a stream costs at most one
 * StreamDO call per second per isolate, whatever its viewers, and a deletion stops media within
 * about two seconds (one cache second plus the request in flight). The verdict also carries the
 * stream's playback policy, so media of a `signed` stream, and every VOD request for its recordings,
 * are refused without a token at no extra call (the VOD playlists are cached for up to a year: a
 * policy cached with them would outlive a PATCH by as long).
 */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import { isolateScope } from '../fanout/isolate-scope.ts';
import type { MasterPlaylistData } from '../stream-do/playlist-data.ts';
import { POLICY_HEADER } from './cached-playlist.ts';
import { Coalescer } from './coalescer.ts';
import { isGone } from './render-playlists.ts';

/** Seconds a serving verdict is reused. */
export const SERVING_CACHE_SECONDS = 1;

type Verdict = 200 | 404 | 410;
interface Serving {
  verdict: Verdict;
  policy: PlaybackPolicy;
}
const verdicts = new Coalescer<Serving>();

/** The Cache API key of a stream's verdict (not a routable URL: only this module reads it). */
export function servingCacheKey(streamId: string): Request {
  return new Request(`https://edgelive.internal/serving/${streamId}`, { method: 'GET' });
}

async function askStream(c: Context<AppEnv>, streamId: string): Promise<Serving> {
  edgeStats.doCalls++;
  const data = await streamStub(c.env, streamId).masterPlaylist();
  // An unknown stream has no policy; one that failed otherwise is served as it was (its policy unknown: public).
  if (!data.ok) return { verdict: data.code === 'stream_not_found' ? 404 : 200, policy: 'public' };
  return servingFrom(c, data.value);
}

/**
 * The verdict on a stream's master data: 410 once it ended past its retention (as its playlists
 * answer), else 200 (a stream with no segment yet still exists; its files are whatever the origin stored).
 */
function servingFrom(c: Context<AppEnv>, data: MasterPlaylistData): Serving {
  const gone = isGone(data, { now: Date.now(), endedRetentionSeconds: c.var.settings.endedRetentionSeconds });
  return { verdict: gone ? 410 : 200, policy: data.playbackPolicy };
}

/** The stream's cached (or freshly asked, coalesced) verdict and policy. */
async function servingOf(c: Context<AppEnv>, streamId: string): Promise<Serving> {
  const pushed = isolateScope(c).copies.liveMaster(streamId);
  if (pushed) return servingFrom(c, pushed);
  const cache = caches.default;
  const key = servingCacheKey(streamId);
  const hit = await cache.match(key);
  if (hit) return { verdict: hit.status as Verdict, policy: hit.headers.get(POLICY_HEADER) === 'signed' ? 'signed' : 'public' };
  const { promise, started } = verdicts.run(streamId, () => askStream(c, streamId));
  const serving = await promise;
  if (started) {
    const headers = { 'Cache-Control': `max-age=${SERVING_CACHE_SECONDS}`, [POLICY_HEADER]: serving.policy };
    waitUntil(c, cache.put(key, new Response(null, { status: serving.verdict, headers })), 'serving verdict cache put');
  }
  return serving;
}

/** Throws `stream_not_found` / `stream_gone` unless the stream's media may be served now; else its playback policy. */
export async function requireServedStream(c: Context<AppEnv>, streamId: string): Promise<PlaybackPolicy> {
  const serving = await servingOf(c, streamId);
  if (serving.verdict === 404) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (serving.verdict === 410) throw new EdgeliveError('stream_gone', `stream ${streamId} ended and is no longer served`);
  return serving.policy;
}

/**
 * The playback policy of a stream's recordings, from the same cached verdict: `stream_not_found`
 * for a stream that does not exist, but an ended stream past its live retention (410) still
 * answers, since its recordings outlive its live playlists.
 */
export async function recordedStreamPolicy(c: Context<AppEnv>, streamId: string): Promise<PlaybackPolicy> {
  const serving = await servingOf(c, streamId);
  if (serving.verdict === 404) throw new EdgeliveError('stream_not_found', 'stream not found');
  return serving.policy;
}

/** Forgets this data center's cached verdict (after a delete), so the next request asks again. */
export async function forgetServingVerdict(streamId: string): Promise<void> {
  await caches.default.delete(servingCacheKey(streamId));
}
