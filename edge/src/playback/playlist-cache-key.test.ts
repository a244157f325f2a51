import { describe, expect, it } from 'vitest';
import { playlistCacheKey } from './playlist-cache-key.ts';

describe('playlistCacheKey', () => {
  it('keeps only the HLS delivery directives, in a fixed order', () => {
    expect(playlistCacheKey('https://e.test/live/a/720p/index.m3u8?x=1&sid=abc&_HLS_part=2&_HLS_msn=10')).toBe('https://e.test/live/a/720p/index.m3u8?_HLS_msn=10&_HLS_part=2');
    expect(playlistCacheKey('https://e.test/live/a/720p/index.m3u8?_HLS_skip=YES&cb=123')).toBe('https://e.test/live/a/720p/index.m3u8?_HLS_skip=YES');
  });

  it('maps every cache-busting variant of a URL onto one key', () => {
    const keys = new Set(Array.from({ length: 500 }, (_, i) => playlistCacheKey(`https://e.test/live/a/master.m3u8?x=${i}&sid=s${i}&_hls_msn=${i}`)));
    expect([...keys]).toEqual(['https://e.test/live/a/master.m3u8']);
  });

  it('leaves the playback token out, so every viewer of a signed stream shares one rendering', () => {
    expect(playlistCacheKey('https://e.test/live/a/720p/index.m3u8?_HLS_msn=4&token=aaa.bbb.ccc&sid=s1')).toBe('https://e.test/live/a/720p/index.m3u8?_HLS_msn=4');
    expect(playlistCacheKey('https://e.test/live/a/manifest.mpd?token=x.y.z')).toBe('https://e.test/live/a/manifest.mpd');
  });

  it('drops a directive value too long to be one', () => {
    expect(playlistCacheKey(`https://e.test/p.m3u8?_HLS_msn=${'9'.repeat(17)}`)).toBe('https://e.test/p.m3u8');
  });
});
