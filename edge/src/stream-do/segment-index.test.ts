import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { admin, json, liveStream, publish, rendition, segments, signed, viewer } from '../test-support/edge-client.ts';

type View = { storage: { segmentRows: number; eventRows: number }; renditions: { name: string; segments: number }[] };

async function view(id: string): Promise<View> {
  return json<View>(await admin('GET', `/v1/streams/${id}`));
}

/** Announces msns `from`..`to` of 720p in `epoch`, 64 a call (the schema's batch limit). */
async function announceRange(id: string, epoch: number, from: number, to: number): Promise<void> {
  for (let start = from; start <= to; start += 64) {
    const msns = Array.from({ length: Math.min(64, to - start + 1) }, (_, i) => start + i);
    const res = await signed(INTERNAL_API.segments(id), segments(epoch, '720p', msns));
    if (res.status !== 200) throw new Error(`announce failed: ${res.status} ${await res.text()}`);
  }
}

/** Fails the current epoch and publishes again with the same key: a new epoch, starting at `firstMsn`. */
async function nextEpoch(id: string, streamKey: string, epoch: number, firstMsn: number): Promise<number> {
  await signed(INTERNAL_API.end(id), { epoch, reason: 'transcoder_failed' });
  const grant = await json<{ epoch: number; firstMsn: number }>(await publish(streamKey));
  expect(grant).toEqual(expect.objectContaining({ epoch: epoch + 1, firstMsn }));
  await signed(INTERNAL_API.renditions(id), rendition(grant.epoch));
  return grant.epoch;
}

describe('bounded segment index (PLAYLIST_WINDOW_SEGMENTS 8: 10 rows kept)', () => {
  it('keeps 10 rows over 504 segments and 6 epochs, with the right discontinuity sequence', async () => {
    const { id, streamKey } = await liveStream({ lowLatency: false });
    let epoch = 1;
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    for (const [from, to] of [[0, 99], [100, 199], [200, 299], [300, 399], [400, 497]] as const) {
      if (from > 0) epoch = await nextEpoch(id, streamKey, epoch, from);
      await announceRange(id, epoch, from, to);
      expect((await view(id)).storage.segmentRows).toBe(10);
    }
    epoch = await nextEpoch(id, streamKey, epoch, 498);
    await announceRange(id, epoch, 498, 503);
    const v = await view(id);
    expect(v.storage.segmentRows).toBe(10);
    // Totals keep counting what was pruned.
    expect(v.renditions.map((r) => [r.name, r.segments])).toEqual([['720p', 504]]);
    // Discontinuities at 100, 200, 300 and 400 slid out; the one at 498 is in the window.
    const playlist = await (await viewer(`/live/${id}/720p/index.m3u8`)).text();
    expect(playlist).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:496
#EXT-X-DISCONTINUITY-SEQUENCE:4
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-5.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:16:32.000Z
#EXTINF:2.000,
seg-496-e5.m4s
#EXTINF:2.000,
seg-497-e5.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-6.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:16:36.000Z
#EXTINF:2.000,
seg-498-e6.m4s
#EXTINF:2.000,
seg-499-e6.m4s
#EXTINF:2.000,
seg-500-e6.m4s
#EXTINF:2.000,
seg-501-e6.m4s
#EXTINF:2.000,
seg-502-e6.m4s
#EXTINF:2.000,
seg-503-e6.m4s
`);
    // A publish after pruning still starts past the highest number.
    await signed(INTERNAL_API.end(id), { epoch, reason: 'transcoder_failed' });
    expect(await json(await publish(streamKey))).toEqual(expect.objectContaining({ firstMsn: 504 }));
  });

  it('keeps the DVR window when it is longer: 60 s of 2 s segments is 30, plus 2', async () => {
    const { id, epoch } = await liveStream({ dvrWindowSeconds: 60 });
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await announceRange(id, epoch, 0, 39);
    expect((await view(id)).storage.segmentRows).toBe(32);
  });
});

describe('gaps in the index', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('fills numbers the origin skipped with EXT-X-GAP rows, logs them, and 404s their files', async () => {
    const { id, epoch } = await liveStream({ lowLatency: false });
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0]));
    expect(await json(await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [3])))).toEqual({ status: 'live', epoch, stored: 1, skipped: 0 });
    // The real segment 1 arriving after 3 is too late: the index never inserts before its end.
    expect(await json(await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [1])))).toEqual({ status: 'live', epoch, stored: 0, skipped: 1 });
    expect(await (await viewer(`/live/${id}/720p/index.m3u8`)).text()).toBe(`#EXTM3U
#EXT-X-VERSION:8
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0-e1.m4s
#EXT-X-GAP
#EXTINF:2.000,
seg-1-e1.m4s
#EXT-X-GAP
#EXTINF:2.000,
seg-2-e1.m4s
#EXTINF:2.000,
seg-3-e1.m4s
`);
    const log = await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(log.events.filter((e) => e.type === 'segments_gap').map((e) => e.data)).toEqual([{ rendition: '720p', fromMsn: 1, toMsn: 2, reason: 'skipped' }]);
    // Players never load a gap's URI; nothing is stored under it, in R2 or at the origin.
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('missing', { status: 404 }));
    expect((await viewer(`/live/${id}/720p/seg-1-e1.m4s`)).status).toBe(404);
    // Gaps hold no media: only the two stored segments count.
    expect((await view(id)).renditions[0]?.segments).toBe(2);
  });

  it('refuses a jump of more than 1000 numbers with 400', async () => {
    const { id, epoch } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0]));
    const res = await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [1002]));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message: 'segment 1002 of 720p is 1001 numbers past the last one (0); at most 1000 are filled as gaps' } });
    expect((await view(id)).storage.segmentRows).toBe(1);
  });
});
