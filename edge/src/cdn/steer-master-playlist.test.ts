import { describe, expect, it } from 'vitest';
import { steerMasterPlaylist } from './steer-master-playlist.ts';
import { steeringManifest } from './steering-manifest.ts';

const SHARED = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1200000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970
360p/index.m3u8
`;

describe('steerMasterPlaylist', () => {
  it('lists every variant once per pathway, in priority order, after the steering tag', () => {
    const out = steerMasterPlaylist(SHARED, {
      pathways: [
        { id: 'cdn-b', prefix: 'https://b.cdn.test/live/s1/' },
        { id: 'cdn-a', prefix: 'https://a.cdn.test/live/s1/' },
      ],
      serverUri: 'https://edge.test/live/s1/steering.json?sid=session-0001',
      query: '?sid=session-0001',
    });
    expect(out).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-CONTENT-STEERING:SERVER-URI="https://edge.test/live/s1/steering.json?sid=session-0001",PATHWAY-ID="cdn-b"
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000,PATHWAY-ID="cdn-b"
https://b.cdn.test/live/s1/720p/index.m3u8?sid=session-0001
#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1200000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970,PATHWAY-ID="cdn-b"
https://b.cdn.test/live/s1/360p/index.m3u8?sid=session-0001
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000,PATHWAY-ID="cdn-a"
https://a.cdn.test/live/s1/720p/index.m3u8?sid=session-0001
#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1200000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970,PATHWAY-ID="cdn-a"
https://a.cdn.test/live/s1/360p/index.m3u8?sid=session-0001
`);
  });

  it('serves from the edge itself with no pathway: relative URIs, no steering tag', () => {
    expect(steerMasterPlaylist(SHARED, { pathways: [], serverUri: 'https://edge.test/x', query: '?sid=session-0001' })).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000
720p/index.m3u8?sid=session-0001
#EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1200000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970
360p/index.m3u8?sid=session-0001
`);
  });
});

describe('steeringManifest', () => {
  it('is VERSION 1 with the TTL, reload URI and priority given', () => {
    expect(JSON.stringify(steeringManifest({ ttlSeconds: 10, reloadUri: 'https://edge.test/live/s1/steering.json?sid=x', priority: ['cdn-c', 'cdn-a'] }))).toBe(
      '{"VERSION":1,"TTL":10,"RELOAD-URI":"https://edge.test/live/s1/steering.json?sid=x","PATHWAY-PRIORITY":["cdn-c","cdn-a"]}',
    );
  });
});
