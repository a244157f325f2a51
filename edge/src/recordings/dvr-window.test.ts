import { describe, expect, it } from 'vitest';
import { dvrRowsToRead, dvrWindow } from './dvr-window.ts';

const rows = (durations: number[]) => durations.map((duration, msn) => ({ msn, duration }));

describe('dvrWindow', () => {
  it('keeps the newest rows holding at most the window, never fewer than the playlist window', () => {
    expect(dvrWindow(rows([2, 2, 2, 2, 2, 2]), 6, 2).map((r) => r.msn)).toEqual([3, 4, 5]);
    expect(dvrWindow(rows([2, 2, 2, 2.5, 2, 2]), 6, 2).map((r) => r.msn)).toEqual([4, 5]);
    expect(dvrWindow(rows([2, 2, 2, 2, 2, 2]), 2, 4).map((r) => r.msn)).toEqual([2, 3, 4, 5]);
    expect(dvrWindow(rows([2, 2, 2]), 0, 8).map((r) => r.msn)).toEqual([0, 1, 2]);
    expect(dvrWindow(rows([2, 2, 2, 2]), 0, 2).map((r) => r.msn)).toEqual([2, 3]);
  });

  it('reads a window of nominal segments from the index', () => {
    expect(dvrRowsToRead(8, 0, 2)).toBe(8);
    expect(dvrRowsToRead(8, 7200, 2)).toBe(3600);
    expect(dvrRowsToRead(8, 10, 2)).toBe(8);
  });
});
