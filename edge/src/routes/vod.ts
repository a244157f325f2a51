import { Hono, type Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { FragmentTimeline, initsCompatible } from '../../../shared/src/mp4/fmp4-epoch-join.ts';
import { MEDIA_FILE_PATTERN, posterFileName, thumbnailObjectKey } from '../../../shared/src/internal-api.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import { renditionName } from '../../../shared/src/schemas.ts';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';
import { playbackCors } from '../middleware/playback-cors.ts';
import { cachedPlaylist, countedCall, forgetRecentPlaylist } from '../playback/cached-playlist.ts';
import { carryTokenInPlaylist } from '../playback/carry-token.ts';
import { readMediaObject, serveMediaFile } from '../playback/media-file.ts';
import { requireTokenIfSigned, verifiedPlaybackToken } from '../playback/playback-access.ts';
import { playlistResponse, type RenderedPlaylist } from '../playback/playlist-response.ts';
import { recordedStreamPolicy, requireServedStream } from '../playback/stream-serving.ts';
import { renderVodMaster, renderVodMedia, vodMaxAge } from '../recordings/vod-data.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';

/**
 * Drops a deleted recording's playlists from this data center's cache (the Cache API is per data
 * center: elsewhere they live until their max-age, which never passes the recording's expiry).
 */
export async function forgetVodPlaylists(c: Context<AppEnv>, streamId: string, recordingId: string, renditions: readonly string[]): Promise<void> {
  const base = `${new URL(c.req.url).origin}/vod/${streamId}/${recordingId}`;
  const urls = [`${base}/master.m3u8`, ...renditions.map((r) => `${base}/${r}/index.m3u8`)];
  for (const url of urls) forgetRecentPlaylist(c, url);
  await Promise.all(urls.map((url) => caches.default.delete(new Request(url))));
}

/** Recording ids: `r` and 15 base-36 characters (recordings-rpc.ts). Anything else is 404 without a DO call. */
const RECORDING_ID = /^r[a-z0-9]{15}$/;
/** The latest thumbnail changes every few seconds. */
const THUMBNAIL_CACHE_CONTROL = 'public, max-age=5';
const IMMUTABLE = 'public, max-age=31536000, immutable';

function checkIds(id: string, rid: string): void {
  if (!isStreamId(id)) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (!RECORDING_ID.test(rid)) throw new EdgeliveError('not_found', `recording ${rid} not found`);
}

/**
 * The request's playback token, verified for the stream (403 if bad), or null; a `signed` stream's
 * recordings refuse a request without one (401). The policy comes from the stream's cached serving
 * verdict, asked only when no token is presented: at most one StreamDO call a second per isolate.
 */
async function recordingAccess(c: Context<AppEnv>, id: string): Promise<string | null> {
  const token = await verifiedPlaybackToken(c, id);
  if (token === null) requireTokenIfSigned(await recordedStreamPolicy(c, id), token, id);
  return token;
}

/** A VOD playlist for this viewer: the shared rendering, or with a token a private copy carrying it in every URI. */
function vodPlaylist(p: RenderedPlaylist, token: string | null): Response {
  if (token === null) return playlistResponse(p);
  return playlistResponse({ body: carryTokenInPlaylist(p.body, token), maxAge: p.maxAge }, 'private');
}

/** A JPEG by object key through the Cache API, then R2, then the origin; never a DO call. */
async function serveImage(c: Context<AppEnv>, key: string, cacheControl: string): Promise<Response> {
  const url = new URL(c.req.url);
  const cacheKey = new Request(`${url.origin}${url.pathname}`, { method: 'GET' });
  const hit = await caches.default.match(cacheKey);
  if (hit) return new Response(hit.body, hit);
  const found = await readMediaObject(c, key);
  if (!found) throw new EdgeliveError('not_found', 'no thumbnail yet');
  const response = new Response(found.body, { headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': cacheControl, 'CDN-Cache-Control': cacheControl } });
  waitUntil(c, caches.default.put(cacheKey, response.clone()), 'thumbnail cache put');
  return response;
}

/** `GET /live/:id/thumbnail.jpg`: the stream's latest thumbnail (the origin rewrites it every few seconds). */
export const thumbnailRoutes = new Hono<AppEnv>();
thumbnailRoutes.use('/:id/thumbnail.jpg', playbackCors);
thumbnailRoutes.get('/:id/thumbnail.jpg', async (c) => {
  const id = c.req.param('id');
  if (!isStreamId(id)) throw new EdgeliveError('stream_not_found', 'stream not found');
  // A signed stream's picture is as private as its video: same token, same cached verdict as its media.
  const token = await verifiedPlaybackToken(c, id);
  if (token === null) requireTokenIfSigned(await requireServedStream(c, id), token, id);
  return serveImage(c, thumbnailObjectKey(id, 'latest.jpg'), THUMBNAIL_CACHE_CONTROL);
});

/**
 * Recordings as VOD under `/vod/:id/:rid/`, gated like live playback (nothing for a `public`
 * stream, the stream's playback token for a `signed` one): master and media playlists
 * (EXT-X-PLAYLIST-TYPE:VOD, immutable, cached at the edge without the token, which is added per
 * response), media files, the poster and an MP4 download of the top rendition streamed from the
 * stored objects.
 */
export const vodRoutes = new Hono<AppEnv>();
vodRoutes.use('*', playbackCors);

vodRoutes.get('/:id/:rid/master.m3u8', async (c) => {
  const { id, rid } = c.req.param();
  checkIds(id, rid);
  const token = await recordingAccess(c, id);
  const p = await cachedPlaylist(c, async () => {
    const data = unwrap(await countedCall(streamStub(c.env, id).vodMaster(rid)));
    return { body: renderVodMaster(data), maxAge: vodMaxAge(data.expiresAt, Date.now()) };
  });
  return vodPlaylist(p, token);
});

vodRoutes.get('/:id/:rid/poster.jpg', async (c) => {
  const { id, rid } = c.req.param();
  checkIds(id, rid);
  await recordingAccess(c, id);
  const rec = unwrap(await streamStub(c.env, id).recording(rid));
  if (rec.status === 'deleted') throw new EdgeliveError('not_found', `recording ${rid} not found`);
  return serveImage(c, thumbnailObjectKey(id, posterFileName(rec.firstEpoch)), IMMUTABLE);
});

vodRoutes.get('/:id/:rid/download.mp4', async (c) => {
  const { id, rid } = c.req.param();
  checkIds(id, rid);
  await recordingAccess(c, id);
  const download = unwrap(await streamStub(c.env, id).vodDownload(rid));
  const bytesOf = async (key: string): Promise<Uint8Array> => {
    const object = await readMediaObject(c, key);
    if (!object) throw new EdgeliveError('upstream_failed', `${key} is missing from storage`);
    return new Uint8Array(await new Response(object.body).arrayBuffer());
  };
  // Init + fragments are already one fragmented MP4: the objects are streamed one after another, no
  // re-encode. A recording that spans reconnects has one encoder run per epoch: their fragments
  // follow the first init when their codec configuration is the same (the usual case: same ladder,
  // same encoder), with decode times moved to continue the timeline; the first epoch that differs
  // (the broadcaster changed resolution or codec settings) ends the file.
  const init = await bytesOf(download.epochs[0]!.initKey);
  const epochs = [download.epochs[0]!];
  for (const epoch of download.epochs.slice(1)) {
    if (!initsCompatible(init, await bytesOf(epoch.initKey))) break;
    epochs.push(epoch);
  }
  const queue = epochs.flatMap((e, i) => e.keys.map((key, j) => ({ key, startsEpoch: i > 0 && j === 0 })));
  const timeline = new FragmentTimeline(init);
  let next = -1;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next++ === -1) return controller.enqueue(init);
      const item = queue[next - 1];
      if (item === undefined) return controller.close();
      if (item.startsEpoch) timeline.startEpoch();
      controller.enqueue(timeline.place(await bytesOf(item.key)));
    },
  });
  return new Response(body, {
    headers: {
      'Content-Type': 'video/mp4',
      'Content-Disposition': `attachment; filename="${id}-${rid}-${download.rendition}.mp4"`,
      'Cache-Control': 'private, max-age=3600',
      // How many of the recording's encoder runs the file holds (fewer when one changed codec configuration).
      'X-Edgelive-Epochs': `${epochs.length}/${download.epochs.length}`,
    },
  });
});

vodRoutes.get('/:id/:rid/:rendition/index.m3u8', async (c) => {
  const { id, rid, rendition } = c.req.param();
  checkIds(id, rid);
  if (!renditionName.safeParse(rendition).success) throw new EdgeliveError('not_found', `recording ${rid} has no rendition ${rendition}`);
  const token = await recordingAccess(c, id);
  const p = await cachedPlaylist(c, async () => {
    const data = unwrap(await countedCall(streamStub(c.env, id).vodMedia(rid, rendition)));
    return { body: renderVodMedia(data), maxAge: vodMaxAge(data.expiresAt, Date.now()) };
  });
  return vodPlaylist(p, token);
});

vodRoutes.get('/:id/:rid/:rendition/:file', async (c) => {
  const { id, rid, rendition, file } = c.req.param();
  checkIds(id, rid);
  if (!renditionName.safeParse(rendition).success || !MEDIA_FILE_PATTERN.test(file)) throw new EdgeliveError('not_found', `no media file ${rendition}/${file}`);
  await recordingAccess(c, id);
  // The token is not part of the media cache key (serveMediaFile drops the query): one cached copy serves every viewer.
  return serveMediaFile(c, id, rendition, file);
});
