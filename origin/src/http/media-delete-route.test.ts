import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ORIGIN_MEDIA_DELETE_PATH } from '../../../shared/src/internal-api.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from '../../../shared/src/signing/request-signature.ts';
import { MemorySegmentStore } from '../store/memory-segment-store.ts';
import { OriginHttpServer } from './origin-http-server.ts';
import { OriginMetrics } from './origin-metrics.ts';

const SECRET = 'test-origin-secret-0123';
const STREAM = 'abcdefgh12345678';
const put = { contentType: 'video/iso.segment', cacheControl: 'public, max-age=31536000, immutable' };

let store: MemorySegmentStore;
let server: OriginHttpServer;
let base: string;

beforeEach(async () => {
  store = new MemorySegmentStore();
  const status = { nodeId: 'n1', ready: () => true, streamIds: () => [] };
  server = new OriginHttpServer({ host: '127.0.0.1', port: 0, status, metrics: new OriginMetrics(), store, logger: pino({ level: 'silent' }), requestTimeoutMs: 60_000, relayIdleTimeoutMs: 60_000, secret: SECRET });
  await server.start();
  base = `http://127.0.0.1:${server.port}`;
});

afterEach(async () => {
  await server.close('test done');
});

async function signedDelete(body: unknown, secret = SECRET): Promise<Response> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${base}${ORIGIN_MEDIA_DELETE_PATH}`, {
    method: 'POST',
    headers: { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: await signRequest(secret, 'POST', ORIGIN_MEDIA_DELETE_PATH, ts, bytes) },
    body: bytes,
  });
}

/** A GET signed like the edge's origin pull. */
async function signedGet(path: string): Promise<Response> {
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${base}${path}`, { headers: { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: await signRequest(SECRET, 'GET', path, ts, new Uint8Array()) } });
}

describe('POST /internal/v1/media/delete', () => {
  it('deletes the listed media objects when signed with the shared secret', async () => {
    const keys = [`live/${STREAM}/720p/seg-1-e1.m4s`, `live/${STREAM}/720p/init-1.mp4`, `live/${STREAM}/_thumbs/poster-e1.jpg`];
    for (const key of [...keys, `live/${STREAM}/720p/seg-2-e1.m4s`]) await store.put(key, new Uint8Array([1]), put);
    const res = await signedDelete({ keys });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 3 });
    for (const key of keys) expect(await store.get(key)).toBeNull();
    expect(await store.get(`live/${STREAM}/720p/seg-2-e1.m4s`)).not.toBeNull();
  });

  it('refuses a wrong signature and keys outside a stream’s media', async () => {
    await store.put(`live/${STREAM}/720p/seg-1-e1.m4s`, new Uint8Array([1]), put);
    const wrong = await signedDelete({ keys: [`live/${STREAM}/720p/seg-1-e1.m4s`] }, 'another-secret-0123456');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: { code: 'unauthorized', message: 'signature mismatch' } });
    const outside = await signedDelete({ keys: ['live/other/../../etc'] });
    expect(outside.status).toBe(400);
    expect(await outside.json()).toEqual({ error: { code: 'bad_request', message: 'keys.0: not a media object key' } });
    expect(await store.get(`live/${STREAM}/720p/seg-1-e1.m4s`)).not.toBeNull();
  });

  it('serves thumbnails for origin pull: the latest with a short cache, posters immutable', async () => {
    await store.put(`live/${STREAM}/_thumbs/latest.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), { contentType: 'image/jpeg', cacheControl: 'public, max-age=5' });
    const res = await signedGet(`/media/live/${STREAM}/_thumbs/latest.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=5');
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect((await signedGet(`/media/live/${STREAM}/_thumbs/other.jpg`)).status).toBe(404);
    expect((await fetch(`${base}/media/live/${STREAM}/_thumbs/latest.jpg`)).status).toBe(401);
  });

  it('deletes everything of a deleted stream with {streamId}, and nothing of another stream', async () => {
    const other = 'zzzzzzzz12345678';
    for (const key of [`live/${STREAM}/720p/seg-1-e1.m4s`, `live/${STREAM}/360p/init-1.mp4`, `live/${STREAM}/_thumbs/latest.jpg`, `live/${other}/720p/seg-1-e1.m4s`]) await store.put(key, new Uint8Array([1]), put);
    const res = await signedDelete({ streamId: STREAM });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 3 });
    expect(await store.get(`live/${STREAM}/720p/seg-1-e1.m4s`)).toBeNull();
    expect(await store.get(`live/${other}/720p/seg-1-e1.m4s`)).not.toBeNull();
    const bad = await signedDelete({ streamId: '../../etc' });
    expect(bad.status).toBe(400);
  });

  it('does not exist on an origin without a secret (tests only): nobody deletes unsigned', async () => {
    const open = new OriginHttpServer({ host: '127.0.0.1', port: 0, status: { nodeId: 'n2', ready: () => true, streamIds: () => [] }, metrics: new OriginMetrics(), store, logger: pino({ level: 'silent' }), requestTimeoutMs: 60_000, relayIdleTimeoutMs: 60_000 });
    await open.start();
    try {
      await store.put(`live/${STREAM}/720p/seg-1-e1.m4s`, new Uint8Array([1]), put);
      const res = await fetch(`http://127.0.0.1:${open.port}${ORIGIN_MEDIA_DELETE_PATH}`, { method: 'POST', body: JSON.stringify({ streamId: STREAM }) });
      expect(res.status).toBe(405);
      expect(await store.get(`live/${STREAM}/720p/seg-1-e1.m4s`)).not.toBeNull();
    } finally {
      await open.close('test done');
    }
  });
});
