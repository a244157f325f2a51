/**
 * `POST /v1/streams/:id/playback-tokens` (admin): a short-lived playback token for a `signed`
 * stream and the playback URLs that carry it, live and recorded. Applications call it from their
 * own backend and hand the URL to one viewer.
 */
import { Hono } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { playbackTokenRequestSchema } from '../../../shared/src/schemas.ts';
import type { AppEnv } from '../app-env.ts';
import { readJsonBody } from '../http/parse-json-body.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { withToken } from '../playback/carry-token.ts';
import { signPlaybackToken } from '../playback/playback-token.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { recordingAnswer } from './recordings.ts';

/** Token routes, mounted under `/v1/streams`. */
export const playbackTokenRoutes = new Hono<AppEnv>();

playbackTokenRoutes.post('/:id/playback-tokens', adminAuth, async (c) => {
  const id = c.req.param('id');
  const input = playbackTokenRequestSchema.parse(await readJsonBody(c.req.raw));
  const keys = c.var.settings.playbackSigningKeys;
  if (keys === null) throw new EdgeliveError('internal', 'PLAYBACK_SIGNING_KEY is not set: this edge cannot mint playback tokens');
  const stub = streamStub(c.env, id);
  const [described, listed] = await Promise.all([stub.describe(), stub.recordings()]);
  const view = unwrap(described);
  const recordings = unwrap(listed);
  // A public stream plays without a token: minting one would suggest a protection that is not there.
  if (view.playbackPolicy !== 'signed') throw new EdgeliveError('conflict', `stream ${id} is public: set playbackPolicy "signed" (PATCH /v1/streams/${id}) before minting tokens`);
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + input.ttlSeconds;
  const token = await signPlaybackToken(keys, { streamId: id, viewerId: input.viewerId, issuedAt, expiresAt });
  const base = c.var.settings.publicBaseUrl || new URL(c.req.url).origin;
  return c.json(
    {
      token,
      expiresAt: expiresAt * 1000,
      ...(input.viewerId === undefined ? {} : { viewerId: input.viewerId }),
      playback: { hls: withToken(`${base}/live/${id}/master.m3u8`, token), dash: withToken(`${base}/live/${id}/manifest.mpd`, token) },
      // The same token plays the stream's recordings (one per live session): their URLs, carrying it.
      recordings: recordings
        .filter((r) => r.status !== 'deleted')
        .map((r) => {
          const { thumbnailUrl, playback } = recordingAnswer(c.var.settings, c.req.url, id, r, token);
          return { id: r.id, status: r.status, thumbnailUrl, playback };
        }),
    },
    201,
  );
});
