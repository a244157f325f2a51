import { describe, expect, it } from 'vitest';
import { renderMediaPlaylist, skippedSegments, type MediaPlaylistSegment } from './hls-media-playlist.ts';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);

function seg(msn: number, overrides: Partial<MediaPlaylistSegment> = {}): MediaPlaylistSegment {
  return { uri: `seg-${msn}.m4s`, duration: 2, programDateTime: T0 + msn * 2000, mapUri: 'init-1.mp4', discontinuity: false, gap: false, ...overrides };
}

const window = (from: number, to: number, overrides: (msn: number) => Partial<MediaPlaylistSegment> = () => ({})) =>
  Array.from({ length: to - from + 1 }, (_, i) => seg(from + i, overrides(from + i)));

describe('delta updates (EXT-X-SKIP, RFC 8216bis §6.2.5.1)', () => {
  it('skips only segments that start more than CAN-SKIP-UNTIL before the end', () => {
    const input = { targetDuration: 2, mediaSequence: 0, discontinuitySequence: 0, segments: window(0, 9), ended: false, canSkipUntil: 12, skip: true };
    // The last 6 segments (12 s) stay; segment 3 starts 14 s before the end.
    expect(skippedSegments(input)).toBe(4);
    expect(skippedSegments({ ...input, skip: false })).toBe(0);
    expect(skippedSegments({ ...input, canSkipUntil: undefined })).toBe(0);
    expect(skippedSegments({ ...input, ended: true })).toBe(0);
    expect(skippedSegments({ ...input, segments: window(0, 5) })).toBe(0);
  });

  it('renders the delta playlist: version 9, SKIP, the first listed segment with its map, date and a discontinuity it carries', () => {
    const text = renderMediaPlaylist({
      targetDuration: 2,
      mediaSequence: 100,
      discontinuitySequence: 1,
      segments: window(100, 109, (msn) => (msn >= 104 ? { mapUri: 'init-2.mp4', discontinuity: msn === 104 } : {})),
      ended: false,
      canSkipUntil: 12,
      skip: true,
    });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12.0
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-DISCONTINUITY-SEQUENCE:1
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SKIP:SKIPPED-SEGMENTS=4
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:03:28.000Z
#EXTINF:2.000,
seg-104.m4s
#EXTINF:2.000,
seg-105.m4s
#EXTINF:2.000,
seg-106.m4s
#EXTINF:2.000,
seg-107.m4s
#EXTINF:2.000,
seg-108.m4s
#EXTINF:2.000,
seg-109.m4s
`);
  });

  it('writes a VOD playlist type with ENDLIST and no server control', () => {
    const text = renderMediaPlaylist({ targetDuration: 2, mediaSequence: 0, discontinuitySequence: 0, segments: window(0, 1), ended: true, playlistType: 'VOD', canSkipUntil: 12, skip: true });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0.m4s
#EXTINF:2.000,
seg-1.m4s
#EXT-X-ENDLIST
`);
  });
});
