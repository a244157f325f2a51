import { describe, expect, it } from 'vitest';
import { TEST_CDNS } from '../test-support/test-cdns.ts';
import { rewriteMediaPlaylist } from './rewrite-media-playlist.ts';
import { rewriteForViewer } from './rewrite-for-viewer.ts';

const SHARED = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:14.000Z
#EXTINF:2.000,
seg-7.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:01:00.000Z
#EXTINF:2.000,
seg-8.m4s
`;

describe('rewriteMediaPlaylist', () => {
  it('makes segment lines and URI attributes absolute and leaves every other line alone', () => {
    expect(rewriteMediaPlaylist(SHARED, (uri) => `https://a.cdn.test/live/s1/720p/${uri}`)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="https://a.cdn.test/live/s1/720p/init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:14.000Z
#EXTINF:2.000,
https://a.cdn.test/live/s1/720p/seg-7.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="https://a.cdn.test/live/s1/720p/init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:01:00.000Z
#EXTINF:2.000,
https://a.cdn.test/live/s1/720p/seg-8.m4s
`);
  });

  it('rewrites LL-HLS URI attributes too and keeps absolute URIs', () => {
    const ll = '#EXT-X-PART:DURATION=0.5,URI="seg-9.0.m4s",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-9.1.m4s"\nhttps://elsewhere.test/seg-9.m4s\n';
    expect(rewriteMediaPlaylist(ll, (uri) => `https://b.cdn.test/x/${uri}`)).toBe(
      '#EXT-X-PART:DURATION=0.5,URI="https://b.cdn.test/x/seg-9.0.m4s",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="https://b.cdn.test/x/seg-9.1.m4s"\nhttps://elsewhere.test/seg-9.m4s\n',
    );
  });
});

describe('rewriteForViewer', () => {
  const base = { streamId: 's1', rendition: '720p', cdns: TEST_CDNS, down: new Set<string>() };

  it('puts a session on its first-ranked healthy CDN, and moves only when that CDN is down', () => {
    // This session ranks cdn-b, cdn-c, cdn-a; without cdn-b, cdn-c (next in its ranking) takes over.
    const up = rewriteForViewer(SHARED, { ...base, sid: 'session-0002', hashKey: 'session' });
    expect(up).toContain('https://b.cdn.test/live/s1/720p/seg-7.m4s');
    expect(up).toContain('#EXT-X-MAP:URI="https://b.cdn.test/live/s1/720p/init-1.mp4"');
    const failedOver = rewriteForViewer(SHARED, { ...base, sid: 'session-0002', hashKey: 'session', down: new Set(['cdn-b']) });
    expect(failedOver).toContain('https://c.cdn.test/live/s1/720p/seg-7.m4s');
    expect(rewriteForViewer(SHARED, { ...base, sid: 'session-0001', hashKey: 'session', down: new Set(['cdn-a', 'cdn-b', 'cdn-c']) })).toBe(SHARED);
  });

  it('hashes the stream in stream mode and each file in segment mode', () => {
    // Stream s1 ranks cdn-b first; session-0001 alone would rank cdn-c first.
    expect(rewriteForViewer(SHARED, { ...base, sid: 'session-0001', hashKey: 'session' })).toContain('https://c.cdn.test/live/s1/720p/seg-7.m4s');
    const a = rewriteForViewer(SHARED, { ...base, sid: 'session-0001', hashKey: 'stream' });
    expect(a).toContain('https://b.cdn.test/live/s1/720p/seg-7.m4s');
    expect(rewriteForViewer(SHARED, { ...base, sid: 'session-0002', hashKey: 'stream' })).toBe(a);
    expect(rewriteForViewer(SHARED, { ...base, sid: null, hashKey: 'session' })).toBe(a);
    const perSegment = rewriteForViewer(SHARED, { ...base, sid: 'session-0001', hashKey: 'segment' });
    expect(perSegment.split('\n').filter((l) => l.includes('://'))).toEqual([
      '#EXT-X-MAP:URI="https://c.cdn.test/live/s1/720p/init-1.mp4"',
      'https://b.cdn.test/live/s1/720p/seg-7.m4s',
      '#EXT-X-MAP:URI="https://c.cdn.test/live/s1/720p/init-2.mp4"',
      'https://c.cdn.test/live/s1/720p/seg-8.m4s',
    ]);
  });
});

describe('segment mode', () => {
  it('skips a down CDN per file and keeps the other files where they were', () => {
    const base = { streamId: 's1', rendition: '720p', sid: null, cdns: TEST_CDNS, hashKey: 'segment' as const };
    // seg-7 ranks cdn-b, cdn-c, cdn-a; seg-8 and both inits rank cdn-c, cdn-a, cdn-b.
    const out = rewriteForViewer(SHARED, { ...base, down: new Set(['cdn-b']) });
    expect(out.split('\n').filter((l) => l.includes('://'))).toEqual([
      '#EXT-X-MAP:URI="https://c.cdn.test/live/s1/720p/init-1.mp4"',
      'https://c.cdn.test/live/s1/720p/seg-7.m4s',
      '#EXT-X-MAP:URI="https://c.cdn.test/live/s1/720p/init-2.mp4"',
      'https://c.cdn.test/live/s1/720p/seg-8.m4s',
    ]);
    const cOut = rewriteForViewer(SHARED, { ...base, down: new Set(['cdn-c']) });
    expect(cOut).toContain('#EXT-X-MAP:URI="https://a.cdn.test/live/s1/720p/init-1.mp4"');
    expect(cOut).toContain('\nhttps://b.cdn.test/live/s1/720p/seg-7.m4s\n');
    expect(rewriteForViewer(SHARED, { ...base, down: new Set(['cdn-a', 'cdn-b', 'cdn-c']) })).toBe(SHARED);
  });
});
