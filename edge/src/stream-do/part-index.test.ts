import { describe, expect, it } from 'vitest';
import { partFileName } from '../../../shared/src/internal-api.ts';
import { holdsRequested, lowLatencyData, tooFarAhead } from './low-latency-playlist.ts';
import { PART_SEGMENTS_KEPT, PartIndex } from './part-index.ts';

const part = (msn: number, p: number, last = false, rendition = '720p') => ({ rendition, msn, part: p, epoch: 1, duration: 0.3, independent: p === 0, last, file: partFileName(msn, p, 1) });

describe('PartIndex', () => {
  it('keeps parts in order from part 0, ignores repeats and holes, and the newest segments only', () => {
    const index = new PartIndex();
    expect(index.add([part(4, 1)])).toBe(0); // no part 0 (an index rebuilt mid-segment): nothing
    expect(index.add([part(5, 0), part(5, 1), part(5, 1), part(5, 3), part(5, 2, true), part(5, 3)])).toBe(3);
    expect(index.of('720p', 5)).toEqual({ epoch: 1, closed: true, parts: [0, 1, 2].map((p) => ({ file: `part-5-${p}-e1.m4s`, duration: 0.3, independent: p === 0 })) });
    for (let msn = 6; msn < 6 + PART_SEGMENTS_KEPT; msn++) index.add([part(msn, 0)]);
    expect(index.of('720p', 5)).toBeUndefined();
    expect(index.of('720p', 6)?.parts).toHaveLength(1);
  });
});

describe('blocking reload rules', () => {
  const store = (lastMsn: number) => ({ lastSegment: () => ({ msn: lastMsn, epoch: 1 }) });

  it('holds until the part exists; past a closed segment it means part 0 of the next', () => {
    const index = new PartIndex();
    index.add([part(3, 0), part(3, 1, true)]);
    expect(holdsRequested(store(2), index, '720p', { msn: 3, part: 1 })).toBe(true);
    expect(holdsRequested(store(2), index, '720p', { msn: 3, part: 2 })).toBe(false);
    expect(holdsRequested(store(2), index, '720p', { msn: 3 })).toBe(false);
    expect(holdsRequested(store(3), index, '720p', { msn: 3 })).toBe(true);
    expect(holdsRequested(store(3), index, '720p', { msn: 3, part: 2 })).toBe(false);
    index.add([part(4, 0)]);
    expect(holdsRequested(store(3), index, '720p', { msn: 3, part: 2 })).toBe(true);
  });

  it('refuses requests more than two segments or the Advance Part Limit ahead', () => {
    expect(tooFarAhead({ rendition: '720p', lastMsn: 4, lastPart: 1 }, { msn: 7 }, 0.333)).toBe('_HLS_msn=7 is more than two segments past the last one (4)');
    expect(tooFarAhead({ rendition: '720p', lastMsn: 4, lastPart: 1 }, { msn: 6 }, 0.333)).toBeNull();
    expect(tooFarAhead({ rendition: '720p', lastMsn: 4, lastPart: 1 }, { msn: 4, part: 12 }, 0.333)).toBe('_HLS_part=12 is more than 10 parts past the last one (1)');
    expect(tooFarAhead({ rendition: '720p', lastMsn: 4, lastPart: 1 }, { msn: 4, part: 5 }, 1)).toBe('_HLS_part=5 is more than 3 parts past the last one (1)');
  });

  it('hints the next part, or part 0 of the next segment after a closing part', () => {
    const index = new PartIndex();
    index.add([part(3, 0), part(3, 1)]);
    const opts = { rendition: '720p', others: [], segments: [], partTarget: 0.333, targetDuration: 2, epoch: 1, live: true };
    expect(lowLatencyData(store(2), index, opts).preloadHint).toBe('part-3-2-e1.m4s');
    index.add([part(3, 2, true)]);
    expect(lowLatencyData(store(2), index, opts).preloadHint).toBe('part-4-0-e1.m4s');
    expect(lowLatencyData(store(2), index, { ...opts, live: false }).preloadHint).toBeNull();
  });

  it('takes part 0 of a segment as the close of the previous one, and hints it once the open segment is full', () => {
    const index = new PartIndex();
    // 25 fps, 0.333 s part target: six 0.32 s parts and a 0.08 s one make a 2 s GOP; the origin
    // closes the segment only when the next keyframe's part arrives, so none of them says `last`.
    const at = (msn: number, p: number, duration: number) => ({ ...part(msn, p), duration });
    index.add([0, 1, 2, 3, 4, 5].map((p) => at(3, p, 0.32)));
    const opts = { rendition: '720p', others: [], segments: [], partTarget: 0.333, targetDuration: 2, epoch: 1, live: true };
    expect(lowLatencyData(store(2), index, opts).preloadHint).toBe('part-3-6-e1.m4s');
    index.add([at(3, 6, 0.08)]);
    expect(index.of('720p', 3)?.closed).toBe(false);
    expect(lowLatencyData(store(2), index, opts).preloadHint).toBe('part-4-0-e1.m4s');
    index.add([at(4, 0, 0.32)]);
    expect(index.of('720p', 3)?.closed).toBe(true);
    // Once segment 3 is listed, a request for its part 7 is answered by part 0 of segment 4.
    expect(holdsRequested(store(3), index, '720p', { msn: 3, part: 7 })).toBe(true);
  });
});
