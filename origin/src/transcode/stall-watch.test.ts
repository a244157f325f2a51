import { describe, expect, it } from 'vitest';
import { StallWatch } from './stall-watch.ts';

describe('StallWatch', () => {
  it('is stalled when fed within the window but no new frame for longer', () => {
    const w = new StallWatch(1_000);
    w.started(0);
    w.progressed(10, 200);
    w.fed(1_150);
    expect(w.stalledFor(1_200)).toBeUndefined(); // 1000 ms without a frame is not more than the window
    expect(w.stalledFor(1_201)).toBe(1_001);
  });

  it('is not stalled when the input went quiet too (an idle broadcaster, not a stuck ffmpeg)', () => {
    const w = new StallWatch(1_000);
    w.started(0);
    w.fed(100);
    expect(w.stalledFor(1_100)).toBeUndefined();
    expect(w.stalledFor(5_000)).toBeUndefined();
  });

  it('counts only a frame number above the last one as progress', () => {
    const w = new StallWatch(1_000);
    w.started(0);
    w.progressed(5, 100);
    w.progressed(5, 900); // same frame again: no progress
    w.fed(1_500);
    expect(w.stalledFor(1_500)).toBe(1_400);
  });

  it('gives a new transcoder a full window and starts its frame count again', () => {
    const w = new StallWatch(1_000);
    w.started(0);
    w.progressed(500, 100);
    w.started(5_000);
    w.progressed(1, 5_100); // the new ffmpeg counts from 0
    w.fed(6_000);
    expect(w.stalledFor(6_000)).toBeUndefined();
    expect(w.stalledFor(6_101)).toBe(1_001);
  });
});
