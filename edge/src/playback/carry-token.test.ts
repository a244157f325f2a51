import { describe, expect, it } from 'vitest';
import { carryTokenInMpd, carryTokenInPlaylist, withToken } from './carry-token.ts';

describe('carrying a playback token', () => {
  it('appends token= to a URI with or without a query', () => {
    expect(withToken('seg-1-e1.m4s', 'a.b.c')).toBe('seg-1-e1.m4s?token=a.b.c');
    expect(withToken('index.m3u8?sid=s1', 'a.b.c')).toBe('index.m3u8?sid=s1&token=a.b.c');
  });

  it('reaches every URI line and URI attribute, leaves SERVER-URI and other tags alone', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-CONTENT-STEERING:SERVER-URI="https://e.test/live/a/steering.json?sid=s1",PATHWAY-ID="cdn-a"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/index.m3u8"',
      '#EXT-X-MAP:URI="https://a.cdn.test/live/a/720p/init-1.mp4"',
      '#EXTINF:2.000,',
      'seg-1-e1.m4s',
      '#EXT-X-PART:DURATION=0.33334,URI="part-2-0-e1.m4s",INDEPENDENT=YES',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-2-1-e1.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=2,LAST-PART=0',
      '',
    ].join('\n');
    expect(carryTokenInPlaylist(playlist, 'T')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-CONTENT-STEERING:SERVER-URI="https://e.test/live/a/steering.json?sid=s1",PATHWAY-ID="cdn-a"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/index.m3u8?token=T"',
        '#EXT-X-MAP:URI="https://a.cdn.test/live/a/720p/init-1.mp4?token=T"',
        '#EXTINF:2.000,',
        'seg-1-e1.m4s?token=T',
        '#EXT-X-PART:DURATION=0.33334,URI="part-2-0-e1.m4s?token=T",INDEPENDENT=YES',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-2-1-e1.m4s?token=T"',
        '#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8?token=T",LAST-MSN=2,LAST-PART=0',
        '',
      ].join('\n'),
    );
  });

  it('reaches the MPD SegmentTemplate URLs, escaping the separator as XML', () => {
    const mpd = '<SegmentTemplate timescale="1000" startNumber="0" initialization="720p/init-1.mp4" media="720p/seg-$Number$-e1.m4s?v=1">';
    expect(carryTokenInMpd(mpd, 'a.b.c')).toBe('<SegmentTemplate timescale="1000" startNumber="0" initialization="720p/init-1.mp4?token=a.b.c" media="720p/seg-$Number$-e1.m4s?v=1&amp;token=a.b.c">');
  });
});
