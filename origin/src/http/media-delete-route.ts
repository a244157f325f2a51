/**
 * `POST /internal/v1/media/delete`, the one route by which the edge deletes media from the origin's
 * store: `{keys}` (the StreamDO alarm: segments that left the DVR window, an expired recording) or
 * `{streamId}` (everything under `live/<id>/`: the stream was deleted). In production the edge
 * deletes through its R2 binding; this route serves stores the binding cannot reach (the local
 * stack's loopback S3 server, or an S3 store other than R2). Signed like the internal API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import * as z from 'zod';
import { MEDIA_FILE_PATTERN, THUMBNAIL_DIR, THUMBNAIL_FILE_PATTERN } from '../../../shared/src/internal-api.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from '../../../shared/src/signing/request-signature.ts';
import type { SegmentStore } from '../store/segment-store.ts';

/** Largest body accepted: 1000 keys of about 60 bytes. */
const MAX_BODY_BYTES = 256 * 1024;

const MEDIA_KEY_RE = /^live\/[a-z0-9]{16}\/([a-z0-9][a-z0-9_-]{0,15}|_thumbs)\/([^/]+)$/;

/** True for a key the origin stores for a stream: a rendition's init or segment, or a thumbnail. */
export function isStreamMediaKey(key: string): boolean {
  const m = MEDIA_KEY_RE.exec(key);
  if (!m) return false;
  return m[1] === THUMBNAIL_DIR ? THUMBNAIL_FILE_PATTERN.test(m[2]!) : MEDIA_FILE_PATTERN.test(m[2]!);
}

const bodySchema = z.union([
  z.object({ keys: z.array(z.string().max(200).refine(isStreamMediaKey, 'not a media object key')).min(1).max(1000) }).strict(),
  z.object({ streamId: z.string().regex(/^[a-z0-9]{16}$/, 'not a stream id') }).strict(),
]);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Uint8Array | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Handles one delete request: 401 unsigned or stale, 413 too large, 400 naming a bad key, 200 `{deleted}`. */
export async function handleMediaDelete(req: IncomingMessage, res: ServerResponse, path: string, opts: { secret: string; store: SegmentStore; logger: Logger }): Promise<void> {
  const body = await readBody(req);
  if (body === null) return json(res, 413, { error: { code: 'payload_too_large', message: `body over ${MAX_BODY_BYTES} bytes` } });
  const header = (name: string) => {
    const v = req.headers[name];
    return (Array.isArray(v) ? v[0] : v) ?? null;
  };
  const verdict = await verifyRequest(opts.secret, { method: 'POST', path, timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER), body }, Math.floor(Date.now() / 1000));
  if (verdict !== 'ok') return json(res, 401, { error: { code: 'unauthorized', message: `signature ${verdict}` } });
  let parsed: z.infer<typeof bodySchema>;
  try {
    const result = bodySchema.safeParse(JSON.parse(new TextDecoder().decode(body)));
    if (!result.success) return json(res, 400, { error: { code: 'bad_request', message: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    parsed = result.data;
  } catch {
    return json(res, 400, { error: { code: 'bad_request', message: 'body: not valid JSON' } });
  }
  if ('streamId' in parsed) {
    const deleted = await opts.store.deletePrefix(`live/${parsed.streamId}/`);
    opts.logger.info({ streamId: parsed.streamId, deleted }, 'purged a deleted stream from the store');
    return json(res, 200, { deleted });
  }
  await opts.store.deleteKeys(parsed.keys);
  opts.logger.info({ objects: parsed.keys.length, first: parsed.keys[0] }, 'media deleted at the edge’s request');
  json(res, 200, { deleted: parsed.keys.length });
}
