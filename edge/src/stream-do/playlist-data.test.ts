import { describe, expect, it } from 'vitest';
import { streamRow } from '../test-support/fake-stream.ts';
import { masterPlaylistData, mediaPlaylistData, type PlaylistStore } from './playlist-data.ts';
import type { RenditionRow, SegmentRow } from './stream-schema.ts';

const R720: RenditionRow = {
  name: '720p', epoch: 2, width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frame_rate: 30,
  declared_bandwidth: 3_000_000, init_file: 'init-2.mp4', segment_count: 2, total_bytes: 1_000_000, total_duration: 4, peak_bps: 2_500_000,
  pruned_discontinuities: 0,
};

function seg(msn: number, epoch: number, discontinuity: boolean): SegmentRow {
  return { rendition: '720p', msn, epoch, duration: 2, program_date_time: 1000 + msn, file: `seg-${msn}-e${epoch}.m4s`, init_file: `init-${epoch}.mp4`, bytes: 500_000, discontinuity: discontinuity ? 1 : 0, gap: 0, timeline_origin: null, run_start: null };
}

/** A store holding 720p with `window` as its last segments and `discontinuities` counted through any msn. */
function store(window: SegmentRow[], discontinuities = 0): PlaylistStore & { asked: unknown[] } {
  const asked: unknown[] = [];
  return {
    asked,
    renditions: () => [R720],
    rendition: (name) => (name === '720p' ? R720 : null),
    segmentWindow: (rendition, limit) => {
      asked.push([rendition, limit]);
      return window;
    },
    discontinuitiesThrough: (rendition, msn) => {
      asked.push([rendition, msn]);
      return discontinuities;
    },
  };
}

describe('masterPlaylistData', () => {
  it('gives status, end time, DVR window and every rendition with its bandwidths', () => {
    const row = streamRow({ status: 'ended', ended_at: 99, dvr_window_seconds: 60 });
    expect(masterPlaylistData(row, store([]))).toEqual({
      status: 'ended',
      playbackPolicy: 'public',
      endedAt: 99,
      dvrWindowSeconds: 60,
      renditions: [{ name: '720p', width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, bandwidth: 3_000_000, averageBandwidth: 2_000_000, segments: 2 }],
    });
  });
});

describe('mediaPlaylistData', () => {
  it('reads the window and the discontinuities through its first segment', () => {
    const s = store([seg(4, 1, false), seg(5, 2, true)], 1);
    const data = mediaPlaylistData(streamRow({ status: 'live', target_duration: 3 }), s, '720p', 8);
    expect(data).toEqual({
      ok: true,
      value: {
        status: 'live',
        playbackPolicy: 'public',
        endedAt: null,
        dvrWindowSeconds: 0,
        targetDuration: 3,
        discontinuitySequence: 1,
        segments: [
          { msn: 4, duration: 2, programDateTime: 1004, file: 'seg-4-e1.m4s', initFile: 'init-1.mp4', bytes: 500_000, discontinuity: false, gap: false },
          { msn: 5, duration: 2, programDateTime: 1005, file: 'seg-5-e2.m4s', initFile: 'init-2.mp4', bytes: 500_000, discontinuity: true, gap: false },
        ],
      },
    });
    expect(s.asked).toEqual([['720p', 8], ['720p', 4]]);
  });

  it('has discontinuity sequence 0 and no segments before the first segment', () => {
    const s = store([], 3);
    expect(mediaPlaylistData(streamRow(), s, '720p', 8)).toMatchObject({ ok: true, value: { discontinuitySequence: 0, segments: [] } });
    expect(s.asked).toEqual([['720p', 8]]);
  });

  it('answers not_found for an unknown rendition', () => {
    expect(mediaPlaylistData(streamRow(), store([]), '1080p', 8)).toEqual({ ok: false, code: 'not_found', message: 'stream s1 has no rendition 1080p' });
  });
});
