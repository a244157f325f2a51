import { describe, expect, it } from 'vitest';
import { renderMediaPlaylist, type MediaPlaylistSegment } from './hls-media-playlist.ts';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0); // 2025-01-01T00:00:00.000Z

function seg(msn: number, overrides: Partial<MediaPlaylistSegment> = {}): MediaPlaylistSegment {
  return { uri: `seg-${msn}.m4s`, duration: 2, programDateTime: T0 + msn * 2000, mapUri: 'init-1.mp4', discontinuity: false, gap: false, ...overrides };
}

describe('renderMediaPlaylist', () => {
  it('renders a live window with one map and one program date time', () => {
    const text = renderMediaPlaylist({
      targetDuration: 2,
      mediaSequence: 5,
      discontinuitySequence: 0,
      segments: [seg(5), seg(6, { duration: 1.9999 }), seg(7, { duration: 2.0346 })],
      ended: false,
    });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:10.000Z
#EXTINF:2.000,
seg-5.m4s
#EXTINF:2.000,
seg-6.m4s
#EXTINF:2.035,
seg-7.m4s
`);
  });

  it('marks a discontinuity with a new map and program date time, and ends with ENDLIST', () => {
    const text = renderMediaPlaylist({
      targetDuration: 3,
      mediaSequence: 10,
      discontinuitySequence: 2,
      segments: [seg(10), seg(11, { discontinuity: true, mapUri: 'init-2.mp4', programDateTime: T0 + 60_123 }), seg(12, { mapUri: 'init-2.mp4' })],
      ended: true,
    });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:3
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-DISCONTINUITY-SEQUENCE:2
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:20.000Z
#EXTINF:2.000,
seg-10.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:01:00.123Z
#EXTINF:2.000,
seg-11.m4s
#EXTINF:2.000,
seg-12.m4s
#EXT-X-ENDLIST
`);
  });

  it('never puts EXT-X-DISCONTINUITY on the first listed segment', () => {
    const text = renderMediaPlaylist({
      targetDuration: 2,
      mediaSequence: 11,
      discontinuitySequence: 1,
      segments: [seg(11, { discontinuity: true, mapUri: 'init-2.mp4' })],
      ended: false,
    });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:11
#EXT-X-DISCONTINUITY-SEQUENCE:1
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:22.000Z
#EXTINF:2.000,
seg-11.m4s
`);
  });

  it('repeats EXT-X-MAP when the map changes without a discontinuity', () => {
    const text = renderMediaPlaylist({
      targetDuration: 2,
      mediaSequence: 0,
      discontinuitySequence: 0,
      segments: [seg(0), seg(1, { mapUri: 'init-9.mp4' })],
      ended: false,
    });
    expect(text.split('\n').slice(5)).toEqual([
      '#EXT-X-MAP:URI="init-1.mp4"',
      '#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z',
      '#EXTINF:2.000,',
      'seg-0.m4s',
      '#EXT-X-MAP:URI="init-9.mp4"',
      '#EXTINF:2.000,',
      'seg-1.m4s',
      '',
    ]);
  });

  it('lists a gap with EXT-X-GAP before its EXTINF, keeping its number, and says version 8', () => {
    const text = renderMediaPlaylist({
      targetDuration: 2,
      mediaSequence: 20,
      discontinuitySequence: 0,
      segments: [seg(20), seg(21, { gap: true }), seg(22, { gap: true, duration: 1.5 }), seg(23, { discontinuity: true, mapUri: 'init-2.mp4' })],
      ended: false,
    });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:8
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:20
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:40.000Z
#EXTINF:2.000,
seg-20.m4s
#EXT-X-GAP
#EXTINF:2.000,
seg-21.m4s
#EXT-X-GAP
#EXTINF:1.500,
seg-22.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:46.000Z
#EXTINF:2.000,
seg-23.m4s
`);
  });

  it('lists a gap as the first segment with its map and program date time', () => {
    const text = renderMediaPlaylist({ targetDuration: 2, mediaSequence: 3, discontinuitySequence: 0, segments: [seg(3, { gap: true })], ended: true });
    expect(text.split('\n').slice(1, 2)).toEqual(['#EXT-X-VERSION:8']);
    expect(text.split('\n').slice(5)).toEqual([
      '#EXT-X-MAP:URI="init-1.mp4"',
      '#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:06.000Z',
      '#EXT-X-GAP',
      '#EXTINF:2.000,',
      'seg-3.m4s',
      '#EXT-X-ENDLIST',
      '',
    ]);
  });

  it('renders an empty ended playlist as headers and ENDLIST', () => {
    expect(renderMediaPlaylist({ targetDuration: 4, mediaSequence: 0, discontinuitySequence: 0, segments: [], ended: true })).toBe(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-ENDLIST\n',
    );
  });

  // After the LL-HLS example in RFC 8216bis (Appendix, "Low-Latency Playlist") and Apple's
  // "Enabling Low-Latency HLS": parts of the last segments, trailing parts, a hint, reports.
  describe('LL-HLS', () => {
    const part = (msn: number, i: number, independent = i === 0) => ({ uri: `part-${msn}-${i}-e1.m4s`, duration: 0.33334, independent });
    const lowLatency = {
      partTarget: 0.334,
      trailingParts: [part(8, 0), part(8, 1)],
      preloadHint: 'part-8-2-e1.m4s',
      renditionReports: [
        { uri: '../360p/index.m3u8', lastMsn: 8, lastPart: 1 },
        { uri: '../1080p/index.m3u8', lastMsn: 8, lastPart: 0 },
      ],
      skip: false,
    };

    it('adds server control, part info, parts, the preload hint and rendition reports', () => {
      const text = renderMediaPlaylist({
        targetDuration: 2,
        mediaSequence: 6,
        discontinuitySequence: 0,
        segments: [seg(6), seg(7, { parts: [0, 1, 2, 3, 4, 5].map((i) => part(7, i)) })],
        ended: false,
        canSkipUntil: 12,
        lowLatency,
      });
      expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=1.002
#EXT-X-PART-INF:PART-TARGET=0.334
#EXT-X-MEDIA-SEQUENCE:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:12.000Z
#EXTINF:2.000,
seg-6.m4s
#EXT-X-PART:DURATION=0.33334,URI="part-7-0-e1.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="part-7-1-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-7-2-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-7-3-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-7-4-e1.m4s"
#EXT-X-PART:DURATION=0.33334,URI="part-7-5-e1.m4s"
#EXTINF:2.000,
seg-7.m4s
#EXT-X-PART:DURATION=0.33334,URI="part-8-0-e1.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="part-8-1-e1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-8-2-e1.m4s"
#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=8,LAST-PART=1
#EXT-X-RENDITION-REPORT:URI="../1080p/index.m3u8",LAST-MSN=8,LAST-PART=0
`);
    });

    it('answers _HLS_skip=YES with EXT-X-SKIP over whole segments older than CAN-SKIP-UNTIL (version 9)', () => {
      const segments = [10, 11, 12, 13, 14, 15, 16, 17].map((msn) => seg(msn, msn === 13 ? { discontinuity: true, mapUri: 'init-2.mp4' } : msn > 13 ? { mapUri: 'init-2.mp4' } : {}));
      const text = renderMediaPlaylist({
        targetDuration: 2,
        mediaSequence: 10,
        discontinuitySequence: 0,
        segments,
        ended: false,
        canSkipUntil: 12, skip: true, lowLatency: { ...lowLatency, trailingParts: [], preloadHint: 'part-18-0-e2.m4s', renditionReports: [] },
      });
      // 16 s listed, CAN-SKIP-UNTIL 12 s: segments 10 and 11 start more than 12 s before the end.
      expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=1.002
#EXT-X-PART-INF:PART-TARGET=0.334
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SKIP:SKIPPED-SEGMENTS=2
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:24.000Z
#EXTINF:2.000,
seg-12.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-2.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:26.000Z
#EXTINF:2.000,
seg-13.m4s
#EXTINF:2.000,
seg-14.m4s
#EXTINF:2.000,
seg-15.m4s
#EXTINF:2.000,
seg-16.m4s
#EXTINF:2.000,
seg-17.m4s
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-18-0-e2.m4s"
`);
    });

    it('skips nothing once ended (nor advertises skipping), and drops the hint', () => {
      const text = renderMediaPlaylist({
        targetDuration: 2,
        mediaSequence: 3,
        discontinuitySequence: 0,
        segments: [seg(3), seg(4, { parts: [part(4, 0), part(4, 1, false)] })],
        ended: true,
        canSkipUntil: 12, skip: true, lowLatency: { ...lowLatency, trailingParts: [], renditionReports: [{ uri: '../360p/index.m3u8', lastMsn: 4 }] },
      });
      expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.002
#EXT-X-PART-INF:PART-TARGET=0.334
#EXT-X-MEDIA-SEQUENCE:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:06.000Z
#EXTINF:2.000,
seg-3.m4s
#EXT-X-PART:DURATION=0.33334,URI="part-4-0-e1.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="part-4-1-e1.m4s"
#EXTINF:2.000,
seg-4.m4s
#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=4
#EXT-X-ENDLIST
`);
    });
  });
});
