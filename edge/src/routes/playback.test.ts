import { env } from 'cloudflare:workers';
import { runInDurableObject, SELF } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { StreamDO } from '../stream-do/stream-do.ts';
import { hotMedia } from '../playback/hot-media.ts';
import { admin, BASE, createdStreamId, liveStream, publish, rendition, segments, signed, viewer, text } from '../test-support/edge-client.ts';

const PLAYLIST = 'application/vnd.apple.mpegurl';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A live stream with 720p (msn 0..count-1, 500 kB each) and a declared-only 1080p. */
async function streamWithSegments(count: number): Promise<{ id: string; streamKey: string; epoch: number }> {
  const s = await liveStream({ lowLatency: false }); // plain HLS here; LL-HLS playlists: low-latency.test.ts
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '720p'));
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '1080p', { width: 1920, height: 1080, declaredBandwidth: 5_128_000 }));
  await signed(INTERNAL_API.segments(s.id), segments(s.epoch, '720p', Array.from({ length: count }, (_, i) => i)));
  return s;
}

/** Playlist bodies are UTF-8 text under a media type workerd does not know as text. */
async function expectError(res: Response, status: number, code: string, message?: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  if (message !== undefined) expect(body.error.message).toBe(message);
}

describe('GET /live/:id/master.m3u8', () => {
  it('lists renditions with segments, measured vs declared bandwidth, highest first', async () => {
    const { id, epoch } = await streamWithSegments(2);
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '360p', { width: 640, height: 360, codecs: 'avc1.64001e,mp4a.40.2', frameRate: 29.97, declaredBandwidth: 928_000 }));
    await signed(INTERNAL_API.segments(id), segments(epoch, '360p', [0, 1], 300_000));
    const res = await viewer(`/live/${id}/master.m3u8?sid=viewer0001`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PLAYLIST);
    // With the viewer's own sid in the URL the answer is that URL's alone: shared caches may keep it.
    expect(res.headers.get('cache-control')).toBe('public, max-age=2');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000
720p/index.m3u8?sid=viewer0001
#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1200000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970
360p/index.m3u8?sid=viewer0001
`);
  });

  it('answers 503 stream_not_ready with Retry-After before the first segment', async () => {
    const { id, epoch } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    const res = await viewer(`/live/${id}/master.m3u8`);
    expect(res.headers.get('retry-after')).toBe('1');
    await expectError(res, 503, 'stream_not_ready', `stream ${id} has no segments yet`);
    await expectError(await viewer(`/live/${id}/720p/index.m3u8`), 503, 'stream_not_ready');
  });

  it('answers 404 for unknown, malformed and deleted streams', async () => {
    await expectError(await viewer('/live/zzzzzzzzzzzzzzzz/master.m3u8'), 404, 'stream_not_found');
    await expectError(await viewer('/live/BAD/master.m3u8'), 404, 'stream_not_found');
    const { id } = await streamWithSegments(1);
    await admin('DELETE', `/v1/streams/${id}`);
    await expectError(await viewer(`/live/${id}/master.m3u8`), 404, 'stream_not_found');
  });

  it('answers 410 stream_gone once an ended stream is past its retention', async () => {
    const { id } = await streamWithSegments(1);
    await admin('POST', `/v1/streams/${id}/end`);
    await runInDurableObject(env.STREAM_DO.get(env.STREAM_DO.idFromName(id)), (_do: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET ended_at = ended_at - 301000');
    });
    await expectError(await viewer(`/live/${id}/master.m3u8`), 410, 'stream_gone', `stream ${id} ended and is no longer served`);
    await expectError(await viewer(`/live/${id}/720p/index.m3u8`), 410, 'stream_gone');
  });

  it('coalesces and caches: many viewers cost one StreamDO call', async () => {
    const { id } = await streamWithSegments(1);
    // The master comes from the isolate's push subscription (one call), or from the StreamDO itself.
    const spies = [vi.spyOn(StreamDO.prototype, 'masterPlaylist'), vi.spyOn(StreamDO.prototype, 'subscribePlaylists')];
    const burst = await Promise.all(Array.from({ length: 10 }, () => viewer(`/live/${id}/master.m3u8`)));
    const texts = await Promise.all(burst.map((r) => text(r)));
    // Each viewer got its own minted session id on the one shared variant list.
    const sids = texts.map((t) => /\?sid=([A-Za-z0-9_-]{44})\n/.exec(t)?.[1]);
    expect(new Set(sids).size).toBe(10);
    expect(new Set(texts.map((t, i) => t.replaceAll(sids[i]!, 'SID'))).size).toBe(1);
    expect(burst.map((r) => r.headers.get('cache-control'))).toEqual(Array<string>(10).fill('private, max-age=2'));
    for (let i = 0; i < 5; i++) expect((await viewer(`/live/${id}/master.m3u8`)).status).toBe(200);
    expect(spies.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBe(1);
  });
});

describe('GET /live/:id/:rendition/index.m3u8', () => {
  it('renders the last PLAYLIST_WINDOW_SEGMENTS segments with relative URIs', async () => {
    const { id } = await streamWithSegments(10);
    const res = await viewer(`/live/${id}/720p/index.m3u8`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PLAYLIST);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:2
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:04.000Z
#EXTINF:2.000,
seg-2-e1.m4s
#EXTINF:2.000,
seg-3-e1.m4s
#EXTINF:2.000,
seg-4-e1.m4s
#EXTINF:2.000,
seg-5-e1.m4s
#EXTINF:2.000,
seg-6-e1.m4s
#EXTINF:2.000,
seg-7-e1.m4s
#EXTINF:2.000,
seg-8-e1.m4s
#EXTINF:2.000,
seg-9-e1.m4s
`);
  });

  it('ends with ENDLIST once ended and may be cached longer', async () => {
    const { id } = await streamWithSegments(1);
    await admin('POST', `/v1/streams/${id}/end`);
    const res = await viewer(`/live/${id}/720p/index.m3u8`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=30');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0-e1.m4s
#EXT-X-ENDLIST
`);
    expect((await viewer(`/live/${id}/master.m3u8?sid=viewer0001`)).headers.get('cache-control')).toBe('public, max-age=30');
  });

  it('has no ENDLIST in error, and marks the resumed epoch with a discontinuity', async () => {
    const { id, streamKey, epoch } = await streamWithSegments(2);
    await signed(INTERNAL_API.end(id), { epoch, reason: 'transcoder_failed' });
    const inError = await viewer(`/live/${id}/720p/index.m3u8`);
    expect(await text(inError)).not.toContain('#EXT-X-ENDLIST');

    expect((await publish(streamKey)).status).toBe(200);
    await signed(INTERNAL_API.renditions(id), rendition(2, '720p'));
    // A longer segment raises the target duration for good.
    await signed(INTERNAL_API.segments(id), { epoch: 2, segments: [{ rendition: '720p', msn: 2, duration: 3.6, programDateTime: Date.UTC(2025, 0, 1, 0, 1), epoch: 2, file: 'seg-2-e2.m4s', bytes: 900_000 }] });
    // Query parameters are not part of the playlist cache key; wait out the cached (1 s) copy.
    expect((await viewer(`/live/${id}/720p/index.m3u8?resumed=1`)).headers.get('cache-control')).toBe('public, max-age=1');
    await new Promise((r) => setTimeout(r, 1100));
    const res = await viewer(`/live/${id}/720p/index.m3u8`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0-e1.m4s
#EXTINF:2.000,
seg-1-e1.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:01:00.000Z
#EXTINF:3.600,
seg-2-e2.m4s
`);
  });

  it('answers 404 not_found for an unknown rendition', async () => {
    const { id } = await streamWithSegments(1);
    await expectError(await viewer(`/live/${id}/4k/index.m3u8`), 404, 'not_found', `stream ${id} has no rendition 4k`);
    await expectError(await viewer(`/live/${id}/BAD!/index.m3u8`), 404, 'not_found');
  });
});

describe('GET /live/:id/:rendition/:file', () => {
  it('serves init and media segments from R2 with immutable caching', async () => {
    const id = await createdStreamId();
    await env.MEDIA.put(`live/${id}/720p/init-1.mp4`, new Uint8Array([1, 2, 3]));
    await env.MEDIA.put(`live/${id}/720p/seg-7-e1.m4s`, new Uint8Array([4, 5]));
    const init = await viewer(`/live/${id}/720p/init-1.mp4`);
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toBe('video/mp4');
    expect(init.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(init.headers.get('access-control-allow-origin')).toBe('*');
    expect(init.headers.get('etag')).toMatch(/^"[0-9a-f]+"$/);
    expect(new Uint8Array(await init.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    const seg = await viewer(`/live/${id}/720p/seg-7-e1.m4s`);
    expect(seg.headers.get('content-type')).toBe('video/iso.segment');
    expect(new Uint8Array(await seg.arrayBuffer())).toEqual(new Uint8Array([4, 5]));
    // Served from the Cache API once R2 has lost it.
    await env.MEDIA.delete(`live/${id}/720p/seg-7-e1.m4s`);
    expect(new Uint8Array(await (await viewer(`/live/${id}/720p/seg-7-e1.m4s`)).arrayBuffer())).toEqual(new Uint8Array([4, 5]));
  });

  it("answers a file again from the isolate's memory: neither the Cache API nor R2 is asked, ranges and bytes intact", async () => {
    const id = await createdStreamId();
    await env.MEDIA.put(`live/${id}/720p/init-1.mp4`, new Uint8Array([1, 2, 3, 4]));
    const first = await viewer(`/live/${id}/720p/init-1.mp4`);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4]));
    const url = `${BASE}/live/${id}/720p/init-1.mp4`;
    // The copy is kept after the answer; then R2 and the Cache API lose the file.
    for (let i = 0; i < 50 && hotMedia.get(url) === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    await env.MEDIA.delete(`live/${id}/720p/init-1.mp4`);
    expect(await caches.default.delete(url)).toBe(true);
    for (let i = 0; i < 2; i++) {
      const again = await viewer(`/live/${id}/720p/init-1.mp4`);
      expect(again.headers.get('content-type')).toBe('video/mp4');
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(new Uint8Array(await again.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4]));
    }
    const part = await SELF.fetch(url, { headers: { range: 'bytes=1-2' } });
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(new Uint8Array([2, 3]));
  });

  it('falls back to the origin when R2 misses, and 404s when nobody has it', async () => {
    const id = await createdStreamId();
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url === `http://origin.test/media/live/${id}/720p/seg-3-e1.m4s`) return new Response(new Uint8Array([9, 9, 9]), { headers: { etag: '"o1"' } });
      if (url.endsWith('seg-5-e1.m4s')) return new Response('boom', { status: 500 });
      return new Response('missing', { status: 404 });
    });
    const res = await viewer(`/live/${id}/720p/seg-3-e1.m4s`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/iso.segment');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('etag')).toBe('"o1"');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([9, 9, 9]));
    await expectError(await viewer(`/live/${id}/720p/seg-4-e1.m4s`), 404, 'not_found', '720p/seg-4-e1.m4s not found');
    await expectError(await viewer(`/live/${id}/720p/seg-5-e1.m4s`), 502, 'upstream_failed');
    expect(fetchSpy).toHaveBeenCalledTimes(3);
  });

  it.each(['seg-1.ts', 'seg-1.m4s', 'seg-1-e.m4s', 'index.m3u9', 'init-x.mp4', '..%2Fsecret'])('answers 404 for a file that is not a segment: %s', async (file) => {
    await expectError(await viewer(`/live/r2stream00000001/720p/${file}`), 404, 'not_found');
  });

  it('answers CORS preflights', async () => {
    const res = await SELF.fetch('https://edge.test/live/r2stream00000001/720p/seg-1-e1.m4s', {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(res.status).toBe(204);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD, OPTIONS',
      'access-control-allow-headers': 'range',
    });
    // Beacons are the only playback POSTs.
    const beacon = await SELF.fetch('https://edge.test/live/r2stream00000001/beacon', {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(beacon.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
  });
});

describe('playback for ids and parameters nobody issued', () => {
  it('ignores unknown query parameters: 100 cache-busting requests cost no StreamDO call past the first', async () => {
    const { id } = await streamWithSegments(1);
    expect((await viewer(`/live/${id}/720p/index.m3u8`)).status).toBe(200);
    const renders = vi.spyOn(StreamDO.prototype, 'mediaPlaylist');
    for (let i = 0; i < 100; i++) expect((await viewer(`/live/${id}/720p/index.m3u8?x=${i}`)).status).toBe(200);
    expect(renders).toHaveBeenCalledTimes(0);
  });

  it('answers well-formed ids the edge did not issue with 404 before any Durable Object', async () => {
    const spy = vi.spyOn(env.STREAM_DO, 'idFromName');
    for (const id of ['aaaaaaaaaaaaaaaa', 'abcdefghij123456', 'zzzzzzzzzzzzzzzz']) {
      await expectError(await viewer(`/live/${id}/master.m3u8`), 404, 'stream_not_found');
      await expectError(await viewer(`/live/${id}/720p/index.m3u8`), 404, 'stream_not_found');
      await expectError(await viewer(`/live/${id}/720p/seg-1-e1.m4s`), 404, 'stream_not_found');
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it('stops serving a deleted stream media at once, cached copies included', async () => {
    const { id } = await streamWithSegments(1);
    await env.MEDIA.put(`live/${id}/720p/seg-0-e1.m4s`, new Uint8Array([1, 2]));
    expect((await viewer(`/live/${id}/720p/seg-0-e1.m4s`)).status).toBe(200);
    expect((await viewer(`/live/${id}/720p/seg-0-e1.m4s`)).status).toBe(200); // now from the Cache API
    expect((await admin('DELETE', `/v1/streams/${id}`)).status).toBe(204);
    await expectError(await viewer(`/live/${id}/720p/seg-0-e1.m4s`), 404, 'stream_not_found');
    await expectError(await viewer(`/live/${id}/master.m3u8`), 404, 'stream_not_found');
  });
});
