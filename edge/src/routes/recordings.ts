import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { withToken } from '../playback/carry-token.ts';
import type { RecordingView } from '../recordings/stream-recordings.ts';
import type { Settings } from '../settings.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { forgetVodPlaylists } from './vod.ts';

/**
 * A recording as the API answers it: the StreamDO's view with its poster and playback URLs (null
 * until ready). They carry `token` when given (the playback-tokens answer); the recordings routes
 * give none, so a `signed` stream's URLs there need `?token=` added, as its live ones do.
 */
export function recordingAnswer(settings: Settings, requestUrl: string, streamId: string, r: RecordingView, token: string | null = null) {
  const base = `${settings.publicBaseUrl || new URL(requestUrl).origin}/vod/${streamId}/${r.id}`;
  const url = (path: string) => (token === null ? `${base}/${path}` : withToken(`${base}/${path}`, token));
  const ready = r.status === 'ready';
  return {
    ...r,
    thumbnailUrl: r.status === 'deleted' ? null : url('poster.jpg'),
    playback: { hls: ready ? url('master.m3u8') : null, mp4: ready ? url('download.mp4') : null },
  };
}

/** `GET/DELETE /v1/streams/:id/recordings[/:rid]` (bearer ADMIN_TOKEN). */
export const recordingRoutes = new Hono<AppEnv>();

recordingRoutes.use('/:id/recordings', adminAuth);
recordingRoutes.use('/:id/recordings/*', adminAuth);

recordingRoutes.get('/:id/recordings', async (c) => {
  const id = c.req.param('id');
  const list = unwrap(await streamStub(c.env, id).recordings());
  return c.json({ recordings: list.map((r) => recordingAnswer(c.var.settings, c.req.url, id, r)) });
});

recordingRoutes.get('/:id/recordings/:rid', async (c) => {
  const { id, rid } = c.req.param();
  return c.json(recordingAnswer(c.var.settings, c.req.url, id, unwrap(await streamStub(c.env, id).recording(rid))));
});

recordingRoutes.delete('/:id/recordings/:rid', async (c) => {
  const { id, rid } = c.req.param();
  const stub = streamStub(c.env, id);
  const held = unwrap(await stub.recording(rid)).renditions;
  const deleted = unwrap(await stub.deleteRecording(rid));
  await forgetVodPlaylists(c, id, rid, held);
  return c.json(recordingAnswer(c.var.settings, c.req.url, id, deleted), 202);
});
