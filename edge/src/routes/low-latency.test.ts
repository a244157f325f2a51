import { env, runInDurableObject } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API, partFileName } from '../../../shared/src/internal-api.ts';
import { renderMaster, renderMedia } from '../playback/render-playlists.ts';
import { parseSettings } from '../settings.ts';
import { unwrap } from '../stream-do/do-result.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { admin, BASE, liveStream, rendition, segments, signed, viewer, text } from '../test-support/edge-client.ts';
import { edgeStats } from '../viewers/edge-stats.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Playlist bodies are UTF-8 text under a media type workerd does not know as text. */
/** Announces parts `from..to` of segment `msn` of a rendition (1/3 s each, part 0 independent). */
function parts(id: string, epoch: number, name: string, msn: number, from: number, to: number, lastOfSegment = false) {
  const list = [];
  for (let part = from; part <= to; part++) {
    list.push({ rendition: name, msn, part, epoch, duration: 0.33334, independent: part === 0, last: lastOfSegment && part === to, file: partFileName(msn, part, epoch) });
  }
  return signed(INTERNAL_API.parts(id), { epoch, parts: list });
}

/** A live LL-HLS stream: 720p and 360p with segments 0 and 1 (2 s each). */
async function llStream(body: Record<string, unknown> = {}) {
  const s = await liveStream(body);
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '720p'));
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '360p', { width: 640, height: 360 }));
  for (const name of ['720p', '360p']) await signed(INTERNAL_API.segments(s.id), segments(s.epoch, name, [0, 1]));
  return s;
}

describe('LL-HLS media playlists', () => {
  it('lists the parts of the newest segments, the open segment, a preload hint and the other rendition', async () => {
    const { id, epoch } = await llStream();
    expect((await parts(id, epoch, '720p', 1, 0, 5, true)).status).toBe(200);
    // The answer says how many parts were new and when the StreamDO took them.
    const before = Date.now();
    const answer = await parts(id, epoch, '720p', 2, 0, 1);
    const { added, at } = (await answer.json()) as { added: number; at: number };
    expect(added).toBe(2);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    await parts(id, epoch, '360p', 2, 0, 0);
    const res = await viewer(`/live/${id}/720p/index.m3u8`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=0.999
#EXT-X-PART-INF:PART-TARGET=0.333
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0-e1.m4s
#EXT-X-PART:DURATION=0.33334,URI="part-1-0-e1.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="part-1-1-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-1-2-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-1-3-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-1-4-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-1-5-e1.m4s"
#EXTINF:2.000,
seg-1-e1.m4s
#EXT-X-PART:DURATION=0.33334,URI="part-2-0-e1.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="part-2-1-e1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-2-2-e1.m4s"
#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=2,LAST-PART=0
`);
  });

  it('is plain HLS with lowLatency: false, and ignores blocking directives there', async () => {
    const { id } = await llStream({ lowLatency: false });
    const body = await text(await viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=9&_HLS_part=0`));
    expect(body).not.toContain('EXT-X-SERVER-CONTROL');
    expect(body).not.toContain('EXT-X-PART');
    expect(body).toContain('seg-1-e1.m4s');
  });

  it('answers _HLS_skip=YES with a delta update', async () => {
    const { id, epoch } = await llStream();
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [2, 3, 4, 5, 6, 7]));
    const body = await text(await viewer(`/live/${id}/720p/index.m3u8?_HLS_skip=YES`));
    expect(body).toContain('#EXT-X-VERSION:9\n');
    expect(body).toContain('#EXT-X-MEDIA-SEQUENCE:0\n');
    expect(body).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n#EXT-X-MAP:URI="init-1.mp4"\n#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:04.000Z\n#EXTINF:2.000,\nseg-2-e1.m4s\n');
    expect(body).not.toContain('seg-1-e1.m4s');
  });
});

describe('blocking playlist reload', () => {
  it('holds a request for a part until it is announced, then answers within 50 ms', async () => {
    const { id, epoch } = await llStream();
    await parts(id, epoch, '720p', 2, 0, 0);
    let answeredAt = 0;
    const held = viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=1`).then((res) => {
      answeredAt = Date.now();
      return res;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(answeredAt).toBe(0);
    const announcedAt = Date.now();
    await parts(id, epoch, '720p', 2, 1, 1);
    const res = await held;
    expect(res.status).toBe(200);
    expect(answeredAt - announcedAt).toBeLessThan(50);
    expect(res.headers.get('cache-control')).toBe('public, max-age=6');
    expect(await text(res)).toContain('#EXT-X-PART:DURATION=0.33334,URI="part-2-1-e1.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-2-2-e1.m4s"\n');
  });

  it('wakes on a segment announce: a part index past the last part of a closed segment means part 0 of the next', async () => {
    const { id, epoch } = await llStream();
    await parts(id, epoch, '720p', 2, 0, 5, true);
    // Part 6 of segment 2 does not exist (5 was its last): it is part 0 of segment 3.
    const held = viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=6`);
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [2]));
    await new Promise((r) => setTimeout(r, 100));
    await parts(id, epoch, '720p', 3, 0, 0);
    const body = await text(await held);
    expect(body).toContain('seg-2-e1.m4s\n#EXT-X-PART:DURATION=0.33334,URI="part-3-0-e1.m4s",INDEPENDENT=YES\n');
  });

  it('holds a request for a whole segment (_HLS_msn alone) until the segment is listed', async () => {
    const { id, epoch } = await llStream();
    const held = viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=2`);
    await parts(id, epoch, '720p', 2, 0, 3);
    await new Promise((r) => setTimeout(r, 100));
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [2]));
    const body = await text(await held);
    expect(body).toContain('seg-2-e1.m4s\n');
  });

  it('makes one StreamDO call per isolate for many viewers blocked on the same part', async () => {
    const { id, epoch } = await llStream();
    await parts(id, epoch, '720p', 2, 0, 0);
    const before = edgeStats.doCalls;
    const url = `/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=1`;
    const held = Array.from({ length: 50 }, (_, i) => viewer(`${url}&sid=viewer${String(i).padStart(4, '0')}`));
    await new Promise((r) => setTimeout(r, 200));
    await parts(id, epoch, '720p', 2, 1, 1);
    const answers = await Promise.all(held);
    expect(answers.map((r) => r.status)).toEqual(Array<number>(50).fill(200));
    const bodies = new Set(await Promise.all(answers.map(text)));
    expect(bodies.size).toBe(1);
    // One held playlist call (these sids are not edge-signed, so no viewer batch follows them).
    expect(edgeStats.doCalls - before).toBe(1);
    // Later viewers of the same URL get the cached answer (once the put has landed): no call at all.
    await new Promise((r) => setTimeout(r, 50));
    expect((await viewer(url)).status).toBe(200);
    expect(edgeStats.doCalls - before).toBe(1);
  });

  it('answers 400 at once for _HLS_part without _HLS_msn, a bad number, or a request too far ahead', async () => {
    const { id, epoch } = await llStream();
    await parts(id, epoch, '720p', 2, 0, 0);
    const cases: [string, string][] = [
      ['_HLS_part=1', '_HLS_part requires _HLS_msn'],
      ['_HLS_msn=x', '_HLS_msn must be a non-negative integer, got "x"'],
      ['_HLS_msn=5', '_HLS_msn=5 is more than two segments past the last one (2)'],
      ['_HLS_msn=2&_HLS_part=11', '_HLS_part=11 is more than 10 parts past the last one (0)'],
    ];
    for (const [query, message] of cases) {
      const res = await viewer(`/live/${id}/720p/index.m3u8?${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toEqual({ error: { code: 'bad_request', message } });
    }
  });

  it('answers 503 when nothing comes within three target durations', async () => {
    const { id } = await llStream();
    const started = Date.now();
    const res = await viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=3`);
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(6000);
    expect(await res.json()).toEqual({ error: { code: 'stream_not_ready', message: '_HLS_msn=3 not made within 6000 ms' } });
  }, 15_000);

  it('answers a held request with the final playlist when the stream ends, and ignores directives once ended', async () => {
    const { id, epoch } = await llStream({ reconnectWindowSeconds: 0 });
    const held = viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=0`);
    await new Promise((r) => setTimeout(r, 100));
    await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' });
    const body = await text(await held);
    expect(body.endsWith('#EXT-X-ENDLIST\n')).toBe(true);
    expect(body).not.toContain('EXT-X-PRELOAD-HINT');
    const after = await viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=3`);
    expect(after.status).toBe(200);
  });
});

describe('playlists pushed to the isolate', () => {
  const settings = parseSettings(env);

  it('follows a stream part after part over one subscription: 5 parts x 10 viewers, one StreamDO call', async () => {
    const { id, epoch } = await llStream();
    await parts(id, epoch, '720p', 2, 0, 0);
    await parts(id, epoch, '360p', 2, 0, 0);
    const before = edgeStats.doCalls;
    for (let p = 1; p <= 5; p++) {
      const held = Array.from({ length: 10 }, (_, v) => viewer(`/live/${id}/${v % 2 ? '360p' : '720p'}/index.m3u8?_HLS_msn=2&_HLS_part=${p}&sid=v${v}`));
      await new Promise((r) => setTimeout(r, 30));
      await parts(id, epoch, '720p', 2, p, p);
      await parts(id, epoch, '360p', 2, p, p);
      const answers = await Promise.all(held);
      expect(answers.map((r) => r.status)).toEqual(Array<number>(10).fill(200));
      for (const body of await Promise.all(answers.map(text))) expect(body).toContain(`URI="part-2-${p}-e1.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${p < 5 ? `part-2-${p + 1}` : 'part-3-0'}-e1.m4s"`);
    }
    expect(edgeStats.doCalls - before).toBe(1);
  });

  it('answers exactly what the StreamDO renders, live and ended', async () => {
    const { id, epoch } = await llStream({ reconnectWindowSeconds: 0 });
    const stub = streamStub(env, id);
    const compare = async (query: string, skip = false) => {
      const served = await text(await viewer(`/live/${id}/720p/index.m3u8${query}`));
      const data = await runInDurableObject(stub, (o: StreamDO) => o.mediaPlaylist('720p', settings.playlistWindowSegments));
      const rendered = renderMedia(unwrap(data), { now: Date.now(), endedRetentionSeconds: settings.endedRetentionSeconds, streamId: id, rendition: '720p', skip, blocking: query.includes('_HLS_msn') });
      expect(served.split('\n'), query).toEqual(rendered.body.split('\n'));
    };
    await compare('');
    await parts(id, epoch, '720p', 2, 0, 5, true);
    await parts(id, epoch, '360p', 2, 0, 2);
    await compare('?_HLS_msn=2&_HLS_part=5');
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [2, 3, 4, 5, 6, 7]));
    await parts(id, epoch, '720p', 8, 0, 1);
    await compare('?_HLS_msn=8&_HLS_part=1&_HLS_skip=YES', true);
    await signed(INTERNAL_API.end(id), { epoch, reason: 'publisher_stopped' });
    await compare('?_HLS_msn=9'); // directives are ignored once ended (a URL of its own: playlists are cached per URL)
  });

  it('answers the master from the pushed copy as the StreamDO renders it, with no StreamDO call, and follows a new rendition', async () => {
    const { id, epoch } = await llStream();
    const stub = streamStub(env, id);
    const variants = (body: string) => body.split('\n').map((line) => line.replace(/\?sid=[^"\s]*/, ''));
    const compare = async () => {
      const served = await text(await viewer(`/live/${id}/master.m3u8`));
      const rendered = renderMaster(unwrap(await runInDurableObject(stub, (o: StreamDO) => o.masterPlaylist())), { now: Date.now(), endedRetentionSeconds: settings.endedRetentionSeconds, streamId: id });
      expect(variants(served)).toEqual(variants(rendered.body));
      return served;
    };
    await viewer(`/live/${id}/720p/index.m3u8`); // opens this isolate's subscription
    const before = edgeStats.doCalls;
    expect(await compare()).toContain('720p/index.m3u8');
    expect(edgeStats.doCalls - before).toBe(0);
    // Answered from memory: the Cache API is neither asked nor filled for a stream pushed to this isolate.
    await viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=1&_HLS_part=0`);
    for (const path of ['master.m3u8', '720p/index.m3u8?_HLS_msn=1&_HLS_part=0']) expect(await caches.default.match(`${BASE}/live/${id}/${path}`)).toBeUndefined();
    // A rendition announced later reaches the master with the next push, once the cached copy (2 s) is out.
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '240p', { width: 426, height: 240, declaredBandwidth: 400_000 }));
    await signed(INTERNAL_API.segments(id), segments(epoch, '240p', [0, 1]));
    await new Promise((r) => setTimeout(r, 2100));
    expect(await compare()).toContain('240p/index.m3u8');
    expect(edgeStats.doCalls - before).toBe(0);
  });

  it("judges media from the pushed copy while this isolate watches the stream: no StreamDO call per verdict, and a deletion stops it at once", async () => {
    const { id } = await llStream();
    await env.MEDIA.put(`live/${id}/720p/seg-1-e1.m4s`, new Uint8Array([4, 5]));
    await viewer(`/live/${id}/720p/index.m3u8`); // opens this isolate's subscription
    const before = edgeStats.doCalls;
    for (let i = 0; i < 3; i++) {
      expect((await viewer(`/live/${id}/720p/seg-1-e1.m4s`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100)); // past the cached verdict's second
    }
    expect(edgeStats.doCalls - before).toBe(0);
    expect((await admin('DELETE', `/v1/streams/${id}`)).status).toBe(204);
    expect((await viewer(`/live/${id}/720p/seg-1-e1.m4s`)).status).toBe(404);
  });

  it('asks the StreamDO for each playlist of a stream with a DVR window (too long to push on every part)', async () => {
    const { id, epoch } = await llStream({ dvrWindowSeconds: 600 });
    await parts(id, epoch, '720p', 2, 0, 0);
    const before = edgeStats.doCalls;
    for (let p = 1; p <= 3; p++) {
      const held = viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=${p}`);
      await new Promise((r) => setTimeout(r, 30));
      await parts(id, epoch, '720p', 2, p, p);
      expect((await held).status).toBe(200);
    }
    // The subscription answered `direct` once; then one held playlist call per part.
    expect(edgeStats.doCalls - before).toBe(4);
  });

  it('stops serving a deleted stream at once, a held request included', async () => {
    const { id, epoch } = await llStream();
    await parts(id, epoch, '720p', 2, 0, 0);
    expect((await viewer(`/live/${id}/720p/index.m3u8`)).status).toBe(200);
    const held = viewer(`/live/${id}/720p/index.m3u8?_HLS_msn=2&_HLS_part=1`);
    await new Promise((r) => setTimeout(r, 30));
    expect((await admin('DELETE', `/v1/streams/${id}`)).status).toBe(204);
    const res = await held;
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'stream_not_found', message: 'stream not found' } });
  });
});

describe('LL-HLS parts on the wire', () => {
  it('fetches a part from the origin only (parts are never in the bucket) and caches it', async () => {
    const { id } = await llStream();
    const bytes = new Uint8Array([1, 2, 3]);
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response(bytes));
    const res = await viewer(`/live/${id}/720p/part-2-0-e1.m4s`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/iso.segment');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([1, 2, 3]);
    expect(String(fetchSpy.mock.calls[0]![0])).toBe(`http://origin.test/media/live/${id}/720p/part-2-0-e1.m4s`);
    await viewer(`/live/${id}/720p/part-2-0-e1.m4s`);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });
});
