import { Hono } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import { renditionName } from '../../../shared/src/schemas.ts';
import type { AppEnv } from '../app-env.ts';
import { playbackCors } from '../middleware/playback-cors.ts';
import { serveCachedPlaylist } from '../playback/cached-playlist.ts';
import { MEDIA_FILE_RE, serveMediaFile } from '../playback/media-file.ts';
import { renderMaster, renderMedia } from '../playback/render-playlists.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';

/** Playback under `/live` (no auth): playlists via cache + coalescing, media via cache, R2, origin. */
export const playbackRoutes = new Hono<AppEnv>();

playbackRoutes.use('*', playbackCors);

playbackRoutes.get('/:id/master.m3u8', async (c) => {
  const id = c.req.param('id');
  const stub = streamStub(c.env, id);
  return serveCachedPlaylist(c, async () =>
    renderMaster(unwrap(await stub.masterPlaylist()), { now: Date.now(), endedRetentionSeconds: c.var.settings.endedRetentionSeconds, streamId: id }),
  );
});

playbackRoutes.get('/:id/:rendition/index.m3u8', async (c) => {
  const id = c.req.param('id');
  const rendition = c.req.param('rendition');
  const stub = streamStub(c.env, id);
  if (!renditionName.safeParse(rendition).success) throw new EdgeliveError('not_found', `stream ${id} has no rendition ${rendition}`);
  const settings = c.var.settings;
  return serveCachedPlaylist(c, async () =>
    renderMedia(unwrap(await stub.mediaPlaylist(rendition, settings.playlistWindowSegments)), {
      now: Date.now(),
      endedRetentionSeconds: settings.endedRetentionSeconds,
      streamId: id,
      rendition,
    }),
  );
});

playbackRoutes.get('/:id/:rendition/:file', async (c) => {
  const { id, rendition, file } = c.req.param();
  if (!isStreamId(id) || !renditionName.safeParse(rendition).success || !MEDIA_FILE_RE.test(file)) {
    throw new EdgeliveError('not_found', `no media file ${rendition}/${file}`);
  }
  return serveMediaFile(c, id, rendition, file);
});
