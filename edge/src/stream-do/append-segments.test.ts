import { describe, expect, it } from 'vitest';
import type { AnnouncedSegment } from '../../../shared/src/schemas.ts';
import { appendSegments, gapRows, MAX_GAP_FILL, runStart, segmentRowsKept, type SegmentIndexStore } from './append-segments.ts';
import type { RenditionRow, SegmentRow } from './stream-schema.ts';

const T0 = Date.UTC(2025, 0, 1);

/** An in-memory index: 720p (init of `renditionEpoch`), rows kept sorted by msn, prunes recorded. */
function memoryIndex(renditionEpoch: number, rows: SegmentRow[] = []) {
  const pruned: [string, number][] = [];
  const store: SegmentIndexStore = {
    rendition: (name) => (name === '720p' ? ({ name, epoch: renditionEpoch, init_file: `init-${renditionEpoch}.mp4` } as RenditionRow) : null),
    lastSegment: (rendition) => rows.filter((r) => r.rendition === rendition).at(-1) ?? null,
    insertSegment: (s) => {
      rows.push({
        rendition: s.rendition, msn: s.msn, epoch: s.epoch, duration: s.duration, program_date_time: s.programDateTime, file: s.file,
        init_file: s.initFile, bytes: s.bytes, discontinuity: s.discontinuity ? 1 : 0, gap: s.gap ? 1 : 0, timeline_origin: s.timelineOrigin ?? null, run_start: s.runStart ?? null,
      });
    },
    pruneSegmentsBefore: (rendition, msn) => {
      pruned.push([rendition, msn]);
      return 0;
    },
  };
  return { store, rows, pruned };
}

function seg(msn: number, epoch: number, overrides: Partial<AnnouncedSegment> = {}): AnnouncedSegment {
  return { rendition: '720p', msn, epoch, duration: 2, programDateTime: T0 + msn * 2000, file: `seg-${msn}-e${epoch}.m4s`, bytes: 1000, gap: false, ...overrides };
}

/** The rows as [msn, epoch, file, init, discontinuity, gap] for compact expectations. */
function summary(rows: SegmentRow[]) {
  return rows.map((r) => [r.msn, r.epoch, r.file, r.init_file, r.discontinuity, r.gap]);
}

describe('segmentRowsKept (pure)', () => {
  it('keeps the playlist window or the DVR window, whichever is longer, plus two', () => {
    expect(segmentRowsKept(8, 0, 2)).toBe(10);
    expect(segmentRowsKept(8, 60, 2)).toBe(32);
    expect(segmentRowsKept(8, 61, 4)).toBe(18);
  });
});

describe('gapRows (pure)', () => {
  it('fills the numbers between with the previous epoch, init and a carried-on clock', () => {
    const previous: SegmentRow = { rendition: '720p', msn: 4, epoch: 1, duration: 1.5, program_date_time: T0, file: 'seg-4-e1.m4s', init_file: 'init-1.mp4', bytes: 9, discontinuity: 0, gap: 0, timeline_origin: null, run_start: null };
    expect(gapRows(previous, 7, 2)).toEqual([
      { rendition: '720p', msn: 5, epoch: 1, duration: 2, programDateTime: T0 + 1500, file: 'seg-5-e1.m4s', initFile: 'init-1.mp4', bytes: 0, discontinuity: false, gap: true },
      { rendition: '720p', msn: 6, epoch: 1, duration: 2, programDateTime: T0 + 3500, file: 'seg-6-e1.m4s', initFile: 'init-1.mp4', bytes: 0, discontinuity: false, gap: true },
    ]);
    expect(gapRows(previous, 5, 2)).toEqual([]);
  });
});

describe('runStart (pure)', () => {
  const origin = T0 - 40;
  const previous: SegmentRow = { rendition: '720p', msn: 4, epoch: 2, duration: 2, program_date_time: T0 + 8000, file: 'seg-4-e2.m4s', init_file: 'init-2.mp4', bytes: 9, discontinuity: 0, gap: 0, timeline_origin: origin, run_start: T0 };

  it('carries the run on from the stored segment right before, of the same encoder run', () => {
    expect(runStart(previous, { msn: 5, epoch: 2, programDateTime: T0 + 10_000, timelineOrigin: origin })).toBe(T0);
  });

  it('starts a run at the segment after a gap, a new epoch, a new timeline origin, a hole, or with no row before', () => {
    const next = { msn: 5, epoch: 2, programDateTime: T0 + 10_000, timelineOrigin: origin };
    expect(runStart({ ...previous, gap: 1, run_start: null }, next)).toBe(T0 + 10_000);
    expect(runStart(previous, { ...next, epoch: 3 })).toBe(T0 + 10_000);
    expect(runStart(previous, { ...next, timelineOrigin: origin + 5000 })).toBe(T0 + 10_000);
    expect(runStart(previous, { ...next, msn: 6 })).toBe(T0 + 10_000);
    expect(runStart(null, next)).toBe(T0 + 10_000);
  });
});

describe('appendSegments', () => {
  it('appends in order and skips what is at or below the last row, never replacing it', () => {
    const { store, rows } = memoryIndex(1);
    expect(appendSegments(store, { epoch: 1, segments: [seg(0, 1), seg(1, 1)] }, 2, 10)).toEqual({ stored: 2, skipped: 0, gaps: [], longest: 2 });
    const retry = appendSegments(store, { epoch: 1, segments: [seg(1, 1, { bytes: 5 }), seg(0, 1), seg(2, 1)] }, 2, 10);
    expect(retry).toEqual({ stored: 1, skipped: 2, gaps: [], longest: 2 });
    expect(rows.map((r) => [r.msn, r.bytes])).toEqual([[0, 1000], [1, 1000], [2, 1000]]);
  });

  it('fills a jump with gap rows of the previous epoch and reports it as skipped', () => {
    const { store, rows } = memoryIndex(1);
    appendSegments(store, { epoch: 1, segments: [seg(0, 1)] }, 2, 10);
    const result = appendSegments(store, { epoch: 1, segments: [seg(3, 1)] }, 2, 10);
    expect(result).toEqual({ stored: 1, skipped: 0, gaps: [{ rendition: '720p', fromMsn: 1, toMsn: 2, reason: 'skipped' }], longest: 2 });
    expect(summary(rows)).toEqual([
      [0, 1, 'seg-0-e1.m4s', 'init-1.mp4', 0, 0],
      [1, 1, 'seg-1-e1.m4s', 'init-1.mp4', 0, 1],
      [2, 1, 'seg-2-e1.m4s', 'init-1.mp4', 0, 1],
      [3, 1, 'seg-3-e1.m4s', 'init-1.mp4', 0, 0],
    ]);
  });

  it('reports each run of gaps once, per rendition and reason', () => {
    const { store } = memoryIndex(1);
    appendSegments(store, { epoch: 1, segments: [seg(0, 1)] }, 2, 100);
    const gap = { gap: true, bytes: 0 };
    const result = appendSegments(store, { epoch: 1, segments: [seg(3, 1), seg(4, 1, gap), seg(5, 1, gap), seg(6, 1), seg(7, 1, gap), seg(9, 1)] }, 2, 100);
    expect(result.gaps).toEqual([
      { rendition: '720p', fromMsn: 1, toMsn: 2, reason: 'skipped' },
      { rendition: '720p', fromMsn: 4, toMsn: 5, reason: 'not_stored' },
      { rendition: '720p', fromMsn: 7, toMsn: 7, reason: 'not_stored' },
      { rendition: '720p', fromMsn: 8, toMsn: 8, reason: 'skipped' },
    ]);
  });

  it('stores the origin gaps with their real duration and merges them into one report', () => {
    const { store, rows } = memoryIndex(1);
    const result = appendSegments(store, { epoch: 1, segments: [seg(0, 1), seg(1, 1, { gap: true, bytes: 0, duration: 1.5 }), seg(2, 1, { gap: true, bytes: 0 }), seg(3, 1)] }, 2, 10);
    expect(result.gaps).toEqual([{ rendition: '720p', fromMsn: 1, toMsn: 2, reason: 'not_stored' }]);
    expect(rows.map((r) => [r.msn, r.gap, r.duration, r.bytes])).toEqual([[0, 0, 2, 1000], [1, 1, 1.5, 0], [2, 1, 2, 0], [3, 0, 2, 1000]]);
  });

  it('lists older-epoch segments under a newer envelope with their own init, and breaks the timeline where the epoch changes', () => {
    const { store, rows } = memoryIndex(2);
    appendSegments(store, { epoch: 1, segments: [seg(0, 1), seg(1, 1)] }, 2, 10);
    appendSegments(store, { epoch: 2, segments: [seg(2, 1), seg(3, 1), seg(4, 2), seg(5, 2)] }, 2, 10);
    expect(summary(rows)).toEqual([
      [0, 1, 'seg-0-e1.m4s', 'init-1.mp4', 0, 0],
      [1, 1, 'seg-1-e1.m4s', 'init-1.mp4', 0, 0],
      [2, 1, 'seg-2-e1.m4s', 'init-1.mp4', 0, 0],
      [3, 1, 'seg-3-e1.m4s', 'init-1.mp4', 0, 0],
      [4, 2, 'seg-4-e2.m4s', 'init-2.mp4', 1, 0],
      [5, 2, 'seg-5-e2.m4s', 'init-2.mp4', 0, 0],
    ]);
  });

  it('prunes each rendition it appended to below its last msn minus the rows kept', () => {
    const { store, pruned } = memoryIndex(1);
    appendSegments(store, { epoch: 1, segments: [seg(0, 1), seg(1, 1)] }, 2, 10);
    expect(pruned).toEqual([]);
    appendSegments(store, { epoch: 1, segments: [seg(10, 1), seg(11, 1)] }, 2, 10);
    expect(pruned).toEqual([['720p', 2]]);
  });

  it('refuses a segment of a later epoch than its envelope, an unknown rendition, an init not announced and a jump over the fill limit', () => {
    const { store, rows } = memoryIndex(1);
    expect(() => appendSegments(store, { epoch: 1, segments: [seg(0, 2)] }, 2, 10)).toThrow(
      expect.objectContaining({ code: 'bad_request', message: "segment 0 of 720p is of epoch 2, after the announce's epoch 1" }),
    );
    expect(() => appendSegments(store, { epoch: 1, segments: [seg(0, 1, { rendition: '360p' })] }, 2, 10)).toThrow(
      expect.objectContaining({ code: 'conflict', message: 'rendition 360p has no init segment announced in epoch 1' }),
    );
    expect(() => appendSegments(store, { epoch: 2, segments: [seg(0, 2)] }, 2, 10)).toThrow(
      expect.objectContaining({ code: 'conflict', message: 'rendition 720p has no init segment announced in epoch 2' }),
    );
    appendSegments(store, { epoch: 1, segments: [seg(0, 1)] }, 2, 10);
    expect(appendSegments(store, { epoch: 1, segments: [seg(MAX_GAP_FILL + 1, 1)] }, 2, 10).stored).toBe(1);
    expect(() => appendSegments(store, { epoch: 1, segments: [seg(2 * MAX_GAP_FILL + 3, 1)] }, 2, 10)).toThrow(
      expect.objectContaining({ code: 'bad_request', message: 'segment 2003 of 720p is 1001 numbers past the last one (1001); at most 1000 are filled as gaps' }),
    );
    expect(rows).toHaveLength(MAX_GAP_FILL + 2);
  });
});
