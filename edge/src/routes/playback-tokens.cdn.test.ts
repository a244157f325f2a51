import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { okData } from '../../../shared/src/api/management-client.ts';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { healthView } from '../cdn/health-view.ts';
import { adminApi, liveStream, rendition, segments, signed, viewer, text } from '../test-support/edge-client.ts';

beforeEach(() => {
  // CDN health probes (the CdnHealth object runs in this isolate) all answer 200: every CDN is up.
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response('ok'));
});

afterEach(() => {
  vi.restoreAllMocks();
  healthView.forget();
});

const INF = '#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000';

describe('playback tokens with three CDNs', () => {
  it('carry the token into every steered pathway URI and every CDN-rewritten media URI', async () => {
    const { id, epoch } = await liveStream({ lowLatency: false, playbackPolicy: 'signed' });
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
    await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0, 1]));
    const { token } = await okData(adminApi().POST('/v1/streams/{id}/playback-tokens', { params: { path: { id } }, body: {} }));
    expect((await viewer(`/live/${id}/master.m3u8?sid=session-0002`)).status).toBe(401);

    const master = await viewer(`/live/${id}/master.m3u8?sid=session-0002&token=${token}`);
    expect(master.status).toBe(200);
    expect(master.headers.get('cache-control')).toBe('private, max-age=2');
    // session-0002 ranks cdn-b, cdn-c, cdn-a (multi-cdn.cdn.test.ts); the steering manifest is not gated, so it carries no token.
    expect(await text(master)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-CONTENT-STEERING:SERVER-URI="https://edge.test/live/${id}/steering.json?sid=session-0002",PATHWAY-ID="cdn-b"
${INF},PATHWAY-ID="cdn-b"
https://b.cdn.test/live/${id}/720p/index.m3u8?sid=session-0002&token=${token}
${INF},PATHWAY-ID="cdn-c"
https://c.cdn.test/live/${id}/720p/index.m3u8?sid=session-0002&token=${token}
${INF},PATHWAY-ID="cdn-a"
https://a.cdn.test/live/${id}/720p/index.m3u8?sid=session-0002&token=${token}
`);

    const media = await viewer(`/live/${id}/720p/index.m3u8?sid=session-0002&token=${token}`);
    expect(media.status).toBe(200);
    expect(media.headers.get('cache-control')).toBe('private, max-age=1');
    expect(await text(media)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="https://b.cdn.test/live/${id}/720p/init-1.mp4?token=${token}"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
https://b.cdn.test/live/${id}/720p/seg-0-e1.m4s?token=${token}
#EXTINF:2.000,
https://b.cdn.test/live/${id}/720p/seg-1-e1.m4s?token=${token}
`);
  });
});
