import { env } from 'cloudflare:workers';
import { SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createdStreamId } from '../test-support/edge-client.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const BYTES = new Uint8Array(Array.from({ length: 100 }, (_, i) => i));

function get(path: string, range?: string): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, range ? { headers: { range } } : {});
}

async function bytes(res: Response): Promise<number[]> {
  return [...new Uint8Array(await res.arrayBuffer())];
}

describe('Range requests on media files', () => {
  it('answers 206 from R2 on a miss, then from the Cache API, and 416 past the end', async () => {
    const id = await createdStreamId();
    await env.MEDIA.put(`live/${id}/720p/seg-1-e1.m4s`, BYTES);
    const first = await get(`/live/${id}/720p/seg-1-e1.m4s`, 'bytes=10-19');
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe('bytes 10-19/100');
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(first.headers.get('cdn-cache-control')).toBe('public, max-age=31536000, immutable');
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    expect(await bytes(first)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

    // R2 loses it: the cached full body answers ranges (cache.match slices it itself).
    await env.MEDIA.delete(`live/${id}/720p/seg-1-e1.m4s`);
    const cached = await get(`/live/${id}/720p/seg-1-e1.m4s`, 'bytes=-3');
    expect(cached.status).toBe(206);
    expect(cached.headers.get('content-range')).toBe('bytes 97-99/100');
    expect(await bytes(cached)).toEqual([97, 98, 99]);
    const whole = await get(`/live/${id}/720p/seg-1-e1.m4s`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(await bytes(whole)).toEqual([...BYTES]);
    const beyondCached = await get(`/live/${id}/720p/seg-1-e1.m4s`, 'bytes=100-');
    expect(beyondCached.status).toBe(416);
    expect(beyondCached.headers.get('content-range')).toBe('bytes */100');
  });

  it('answers 416 with Content-Range on a miss past the end, without caching a partial answer', async () => {
    const id = await createdStreamId();
    await env.MEDIA.put(`live/${id}/720p/init-1.mp4`, BYTES.slice(0, 8));
    const res = await get(`/live/${id}/720p/init-1.mp4`, 'bytes=8-');
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */8');
    expect(await res.json()).toEqual({ error: { code: 'range_not_satisfiable', message: 'bytes=8- is outside the 8 bytes of this file' } });
    const full = await get(`/live/${id}/720p/init-1.mp4`);
    expect(full.status).toBe(200);
    expect(await bytes(full)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('honours Range on the origin-pull path: fetches the whole file once, caches it, then slices', async () => {
    const id = await createdStreamId();
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response(BYTES, { headers: { etag: '"o2"' } }));
    const res = await get(`/live/${id}/360p/seg-4-e1.m4s`, 'bytes=0-1');
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 0-1/100');
    expect(res.headers.get('etag')).toBe('"o2"');
    expect(await bytes(res)).toEqual([0, 1]);
    // The origin was asked for the whole file, without the Range header.
    const [input, init] = fetchSpy.mock.calls[0]!;
    expect(String(input)).toBe(`http://origin.test/media/live/${id}/360p/seg-4-e1.m4s`);
    const headers = new Headers(init?.headers);
    expect(headers.has('range')).toBe(false);
    // Signed like every edge → origin call; the origin serves media to nobody else.
    expect(headers.get('x-edgelive-signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    const again = await get(`/live/${id}/360p/seg-4-e1.m4s`, 'bytes=50-51');
    expect(await bytes(again)).toEqual([50, 51]);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });
});
