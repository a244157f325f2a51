import { Hono } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { hashKeySecret, parseStreamKey } from '../../../shared/src/keys/stream-key.ts';
import { endAnnounceSchema, heartbeatSchema, keyCheckRequestSchema, partAnnounceSchema, publishRequestSchema, renditionAnnounceSchema, segmentAnnounceSchema } from '../../../shared/src/schemas.ts';
import type { AppEnv } from '../app-env.ts';
import { parseJsonBody } from '../http/parse-json-body.ts';
import { originSignature } from '../middleware/origin-signature.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';

/** The origin → edge API under `/internal/v1` (paths in shared/src/internal-api.ts); every call is signed. */
export const internalRoutes = new Hono<AppEnv>();

internalRoutes.use('*', originSignature);

internalRoutes.post('/publish', async (c) => {
  const req = publishRequestSchema.parse(parseJsonBody(c.var.rawBody));
  const key = parseStreamKey(req.streamKey);
  if (!key) throw new EdgeliveError('stream_key_invalid', 'stream key is not valid');
  const grant = unwrap(
    await streamStub(c.env, key.streamId).publish({
      keyHash: await hashKeySecret(key.secret),
      nodeId: req.nodeId,
      source: req.source,
      ...(req.takeover ? { takeover: req.takeover } : {}),
      ...(req.minMsn !== undefined ? { minMsn: req.minMsn } : {}),
    }),
  );
  return c.json(grant);
});

internalRoutes.post('/key-check', async (c) => {
  const req = keyCheckRequestSchema.parse(parseJsonBody(c.var.rawBody));
  const key = parseStreamKey(req.streamKey);
  if (!key) throw new EdgeliveError('stream_key_invalid', 'stream key is not valid');
  return c.json(unwrap(await streamStub(c.env, key.streamId).checkKey(await hashKeySecret(key.secret), req.nodeId)));
});

internalRoutes.post('/streams/:id/renditions', async (c) => {
  const stub = streamStub(c.env, c.req.param('id'));
  return c.json(unwrap(await stub.announceRendition(renditionAnnounceSchema.parse(parseJsonBody(c.var.rawBody)))));
});

internalRoutes.post('/streams/:id/segments', async (c) => {
  const stub = streamStub(c.env, c.req.param('id'));
  return c.json(unwrap(await stub.announceSegments(segmentAnnounceSchema.parse(parseJsonBody(c.var.rawBody)))));
});

internalRoutes.post('/streams/:id/parts', async (c) => {
  const stub = streamStub(c.env, c.req.param('id'));
  return c.json(unwrap(await stub.announceParts(partAnnounceSchema.parse(parseJsonBody(c.var.rawBody)))));
});

internalRoutes.post('/streams/:id/heartbeat', async (c) => {
  const stub = streamStub(c.env, c.req.param('id'));
  return c.json(unwrap(await stub.heartbeat(heartbeatSchema.parse(parseJsonBody(c.var.rawBody)))));
});

internalRoutes.post('/streams/:id/end', async (c) => {
  const stub = streamStub(c.env, c.req.param('id'));
  return c.json(unwrap(await stub.end(endAnnounceSchema.parse(parseJsonBody(c.var.rawBody)))));
});
