import { Hono } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { MEDIA_FILE_PATTERN } from '../../../shared/src/internal-api.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import { renditionName } from '../../../shared/src/schemas.ts';
import { beaconSchema, MAX_BEACON_BYTES } from '../../../shared/src/viewers/beacon.ts';
import { parseJsonBody } from '../http/parse-json-body.ts';
import { readBodyAtMost } from '../http/read-body-at-most.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { flushViewers } from '../viewers/isolate-viewers.ts';
import { isolateScope } from '../fanout/isolate-scope.ts';
import { sessionIdOf } from '../viewers/session-id.ts';
import { isSignedSession } from '../viewers/signed-session.ts';
import type { AppEnv } from '../app-env.ts';
import { acceptErrorBeacon } from '../cdn/error-beacon.ts';
import { steeringResponse, viewerMaster, viewerMedia } from '../cdn/viewer-playlists.ts';
import { playbackCors } from '../middleware/playback-cors.ts';
import { cachedPlaylist } from '../playback/cached-playlist.ts';
import { masterData, mediaPlaylistData } from '../playback/playlist-sources.ts';
import { isolateMetrics } from '../metrics/isolate-metrics.ts';
import { serveMediaFile } from '../playback/media-file.ts';
import { requireTokenIfSigned, verifiedPlaybackToken } from '../playback/playback-access.ts';
import { isIssuedStreamId, requireIssuedStreamId } from '../playback/stream-id-gate.ts';
import { requireServedStream } from '../playback/stream-serving.ts';
import { playlistDirectives } from '../playback/playlist-directives.ts';
import { renderMaster, renderMedia } from '../playback/render-playlists.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { dashManifest } from './dash.ts';
import { publicStatus } from './public-status.ts';

/**
 * Playback under `/live` (no auth for `public` streams, a playback token for `signed` ones): playlists
 * via cache + coalescing, then per viewer CDN rewriting (cdn/) and token carrying; media via cache,
 * R2, origin; content steering and CDN error beacons.
 */
export const playbackRoutes = new Hono<AppEnv>();

playbackRoutes.use('*', playbackCors);

playbackRoutes.get('/:id/master.m3u8', async (c) => {
  const id = c.req.param('id');
  await requireIssuedStreamId(c, id);
  const token = await verifiedPlaybackToken(c, id);
  const stub = streamStub(c.env, id);
  edgeStats.playlistRequests++;
  // The variant list is shared (cached without `sid` and `token`); each viewer's session id and token are added per request.
  const shared = await cachedPlaylist(
    c,
    async () => renderMaster(await masterData(c, stub, id), { now: Date.now(), endedRetentionSeconds: c.var.settings.endedRetentionSeconds, streamId: id }),
    isolateScope(c).copies.live(id),
  );
  requireTokenIfSigned(shared.playbackPolicy, token, id);
  return viewerMaster(c, id, shared, token);
});

playbackRoutes.get('/:id/manifest.mpd', dashManifest);
playbackRoutes.get('/:id/status.json', publicStatus);

playbackRoutes.get('/:id/steering.json', async (c) => {
  const id = c.req.param('id');
  if (!isStreamId(id)) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (c.var.settings.cdns.length === 0) throw new EdgeliveError('not_found', 'content steering is off: no CDN is configured');
  return steeringResponse(c, id);
});

playbackRoutes.post('/:id/cdn-errors', async (c) => {
  const id = c.req.param('id');
  if (!isStreamId(id)) throw new EdgeliveError('stream_not_found', 'stream not found');
  const answer = await acceptErrorBeacon(c);
  // Counted in the stream's analytics too, batched like viewers; only for ids the edge issued.
  if (await isIssuedStreamId(c, id)) flushViewers(c, id, isolateScope(c).viewers.recordError(id, Date.now()));
  return answer;
});

playbackRoutes.get('/:id/:rendition/index.m3u8', async (c) => {
  const id = c.req.param('id');
  const rendition = c.req.param('rendition');
  await requireIssuedStreamId(c, id);
  const token = await verifiedPlaybackToken(c, id);
  const stub = streamStub(c.env, id);
  if (!renditionName.safeParse(rendition).success) throw new EdgeliveError('not_found', `stream ${id} has no rendition ${rendition}`);
  const settings = c.var.settings;
  edgeStats.playlistRequests++;
  // LL-HLS directives are part of the cache key: viewers blocked on the same part share one held DO call.
  const directives = playlistDirectives(new URL(c.req.url));
  const shared = await cachedPlaylist(c, async () =>
    renderMedia(await mediaPlaylistData(c, stub, id, rendition, settings.playlistWindowSegments, directives.block), {
      now: Date.now(),
      endedRetentionSeconds: settings.endedRetentionSeconds,
      streamId: id,
      rendition,
      // Delta update (RFC 8216bis §6.2.5.1); the directives stay in the cache key, so each form is cached apart.
      skip: directives.skip,
      blocking: directives.block !== undefined,
    }),
    isolateScope(c).copies.live(id),
  );
  requireTokenIfSigned(shared.playbackPolicy, token, id);
  const sid = sessionIdOf(new URL(c.req.url));
  const response = await viewerMedia(c, id, rendition, shared, sid, token);
  // Every poll with a session id the edge signed is that viewer's heartbeat; made-up ones are served, not counted.
  if (sid && (await isSignedSession(settings.originSecret, sid))) flushViewers(c, id, isolateScope(c).viewers.recordPoll(id, sid, rendition, Date.now()));
  return response;
});

playbackRoutes.post('/:id/beacon', async (c) => {
  const id = c.req.param('id');
  await requireIssuedStreamId(c, id);
  const bytes = await readBodyAtMost(c.req.raw, MAX_BEACON_BYTES);
  if (bytes === null) throw new EdgeliveError('payload_too_large', `beacon over ${MAX_BEACON_BYTES} bytes`);
  const beacon = beaconSchema.parse(parseJsonBody(bytes));
  if (!(await isSignedSession(c.var.settings.originSecret, beacon.sid))) throw new EdgeliveError('forbidden', 'sid: session id was not issued by this edge (load the master playlist first)');
  const now = Date.now();
  if (!isolateScope(c).beacons.allow(beacon.sid, now)) throw new EdgeliveError('rate_limited', `session ${beacon.sid} sends beacons too often`);
  edgeStats.beacons++;
  flushViewers(c, id, isolateScope(c).viewers.recordBeacon(id, beacon, now));
  return c.body(null, 204);
});

playbackRoutes.get('/:id/:rendition/:file', async (c) => {
  const { id, rendition, file } = c.req.param();
  if (!isStreamId(id) || !renditionName.safeParse(rendition).success || !MEDIA_FILE_PATTERN.test(file)) {
    throw new EdgeliveError('not_found', `no media file ${rendition}/${file}`);
  }
  await requireIssuedStreamId(c, id);
  const token = await verifiedPlaybackToken(c, id);
  // A deleted or long-ended stream's media stops within about two seconds, cached copies included.
  requireTokenIfSigned(await requireServedStream(c, id), token, id);
  isolateMetrics.mediaRequests++;
  // The token is not part of the media cache key (serveMediaFile drops the query): one cached copy serves every viewer.
  return serveMediaFile(c, id, rendition, file);
});

