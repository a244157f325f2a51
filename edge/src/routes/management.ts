import { Hono } from 'hono';
import { forgetServingVerdict } from '../playback/stream-serving.ts';
import { newSignedStreamId } from '../../../shared/src/keys/signed-stream-id.ts';
import { formatStreamKey, hashKeySecret, newKeySecret, newStreamId } from '../../../shared/src/keys/stream-key.ts';
import { DEFAULT_LADDER, DEFAULT_SEGMENT_SECONDS } from '../../../shared/src/ladder/default-ladder.ts';
import { createStreamSchema, dvrWindowOf, eventsQuerySchema, feedTokenRequestSchema, listStreamsQuerySchema, updateStreamSchema } from '../../../shared/src/schemas.ts';
import type { AppEnv } from '../app-env.ts';
import { readJsonBody } from '../http/parse-json-body.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import type { Settings } from '../settings.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import type { StreamView } from '../stream-do/stream-view.ts';
import { registryStub } from '../stream-registry/stream-registry.ts';
import { signFeedToken } from '../../../shared/src/signing/feed-token.ts';
import { requireAdminToken } from '../middleware/admin-auth.ts';

function playbackUrls(settings: Settings, requestUrl: string, id: string): { hls: string; dash: string } {
  const base = settings.publicBaseUrl || new URL(requestUrl).origin;
  return { hls: `${base}/live/${id}/master.m3u8`, dash: `${base}/live/${id}/manifest.mpd` };
}

function ingestUrls(settings: Settings, streamKey: string): { ingestUrl: string; publishUrl: string } {
  return { ingestUrl: settings.ingestUrl, publishUrl: `${settings.ingestUrl}/${streamKey}` };
}

/** A stream as `GET`, `PATCH` and `end` answer it: the StreamDO's view with its ingest and playback URLs. */
function streamAnswer(settings: Settings, requestUrl: string, id: string, view: StreamView) {
  return { ...view, ingestUrl: settings.ingestUrl, playback: playbackUrls(settings, requestUrl, id) };
}

/** The management API under `/v1/streams` (bearer ADMIN_TOKEN). */
export const managementRoutes = new Hono<AppEnv>();

managementRoutes.use('*', adminAuth);

managementRoutes.post('/', async (c) => {
  const input = createStreamSchema.parse(await readJsonBody(c.req.raw));
  // Signed ids let playback refuse made-up ids before any Durable Object is addressed.
  const idSecret = c.var.settings.streamIdSecret;
  const id = idSecret === null ? newStreamId() : await newSignedStreamId(idSecret);
  const secret = newKeySecret();
  const streamKey = formatStreamKey(id, secret);
  const view = unwrap(
    await streamStub(c.env, id).create({
      id,
      name: input.name ?? null,
      keyHash: await hashKeySecret(secret),
      ladder: input.ladder ?? DEFAULT_LADDER,
      lowLatency: input.lowLatency,
      partSeconds: input.partSeconds,
      dvrWindowSeconds: dvrWindowOf(input),
      segmentSeconds: input.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS,
      reconnectWindowSeconds: input.reconnectWindowSeconds ?? c.var.settings.reconnectWindowSeconds,
      playbackPolicy: input.playbackPolicy,
      recording: { record: input.record, ...(input.recordingRetentionSeconds !== undefined ? { retentionSeconds: input.recordingRetentionSeconds } : {}) },
    }),
  );
  const settings = c.var.settings;
  return c.json(
    {
      id,
      name: view.name,
      streamKey,
      ...ingestUrls(settings, streamKey),
      playback: playbackUrls(settings, c.req.url, id),
      status: view.status,
      createdAt: view.createdAt,
      ladder: view.ladder,
      lowLatency: view.lowLatency,
      partSeconds: view.partSeconds,
      dvrWindowSeconds: view.dvrWindowSeconds,
      segmentSeconds: view.segmentSeconds,
      reconnectWindowSeconds: view.reconnectWindowSeconds,
      record: input.record,
      playbackPolicy: view.playbackPolicy,
    },
    201,
  );
});

managementRoutes.get('/', async (c) => {
  const query = listStreamsQuerySchema.parse(c.req.query());
  return c.json(unwrap(await registryStub(c.env).list(query)));
});

managementRoutes.get('/:id', async (c) => {
  const id = c.req.param('id');
  const view = unwrap(await streamStub(c.env, id).describe());
  return c.json(streamAnswer(c.var.settings, c.req.url, id, view));
});

managementRoutes.patch('/:id', async (c) => {
  const id = c.req.param('id');
  const stub = streamStub(c.env, id);
  const input = updateStreamSchema.parse(await readJsonBody(c.req.raw));
  const view = unwrap(await stub.update(input));
  // A policy change reaches this data center's media at once, its cached playlists within their lifetime.
  if (input.playbackPolicy !== undefined) await forgetServingVerdict(id);
  return c.json(streamAnswer(c.var.settings, c.req.url, id, view));
});

managementRoutes.post('/:id/end', async (c) => {
  const id = c.req.param('id');
  const view = unwrap(await streamStub(c.env, id).endNow());
  return c.json(streamAnswer(c.var.settings, c.req.url, id, view));
});

managementRoutes.delete('/:id', async (c) => {
  const id = c.req.param('id');
  unwrap(await streamStub(c.env, id).markDeleted());
  // This data center stops serving its media at once; others within a second (stream-serving.ts).
  await forgetServingVerdict(id);
  return c.body(null, 204);
});

managementRoutes.post('/:id/key', async (c) => {
  const id = c.req.param('id');
  const stub = streamStub(c.env, id);
  const secret = newKeySecret();
  unwrap(await stub.rotateKey(await hashKeySecret(secret)));
  const streamKey = formatStreamKey(id, secret);
  return c.json({ streamKey, publishUrl: ingestUrls(c.var.settings, streamKey).publishUrl });
});

managementRoutes.get('/:id/events', async (c) => {
  const stub = streamStub(c.env, c.req.param('id'));
  const query = eventsQuerySchema.parse(c.req.query());
  return c.json(unwrap(await stub.events(query.since, query.limit)));
});

managementRoutes.post('/:id/feed-tokens', async (c) => {
  const id = c.req.param('id');
  const { ttlSeconds } = feedTokenRequestSchema.parse(await readJsonBody(c.req.raw));
  unwrap(await streamStub(c.env, id).describe());
  const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
  const token = await signFeedToken(requireAdminToken(c.var.settings), id, expiresAt);
  const base = (c.var.settings.publicBaseUrl || new URL(c.req.url).origin).replace(/^http/, 'ws');
  return c.json({ token, expiresAt: expiresAt * 1000, url: `${base}/v1/streams/${id}/events?token=${token}` }, 201);
});
