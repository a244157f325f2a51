import { describe, expect, it } from 'vitest';
import { initSegmentUri, startVariantUri } from './start-preloads.ts';

describe('startVariantUri', () => {
  it('picks the variant hls.js starts with: lowest height, then lowest bandwidth', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"',
      '720p/index.m3u8?sid=s',
      '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360',
      '360p/index.m3u8?sid=s',
      '#EXT-X-STREAM-INF:BANDWIDTH=700000,RESOLUTION=640x360',
      '360p-low/index.m3u8?sid=s',
      '',
    ].join('\n');
    expect(startVariantUri(master)).toBe('360p-low/index.m3u8?sid=s');
  });

  it('is null for a master without variants', () => {
    expect(startVariantUri('#EXTM3U\n#EXT-X-VERSION:7\n')).toBeNull();
  });
});

describe('initSegmentUri', () => {
  it('reads the EXT-X-MAP URI', () => {
    expect(initSegmentUri('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="init-3.mp4?token=t"\n#EXTINF:2,\nseg-1-e3.m4s\n')).toBe('init-3.mp4?token=t');
    expect(initSegmentUri('#EXTM3U\n#EXTINF:2,\nseg-1.ts\n')).toBeNull();
  });
});
