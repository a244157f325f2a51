import { describe, expect, it } from 'vitest';
import { applyPatch, diff, jsonEqual } from './push-patch.ts';

/** `to` rebuilt from `from` and the patch between them, checked against `to` as JSON. */
function roundTrip(from: unknown, to: unknown) {
  const patch = diff(from, to);
  const rebuilt = patch === undefined ? from : applyPatch(structuredClone(from), patch);
  expect(JSON.parse(JSON.stringify(rebuilt ?? null))).toEqual(JSON.parse(JSON.stringify(to ?? null)));
  return patch;
}

const part = (msn: number, i: number) => ({ file: `part-${msn}-${i}-e1.m4s`, duration: 0.333, independent: i === 0 });

/** A seeded generator, so a failure is the same failure on every run. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('push patches', () => {
  it('sends a window that slid as the entries that left the front and arrived at the back', () => {
    const segs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ msn: from + i, file: `seg-${from + i}.m4s` }));
    expect(roundTrip(segs(0, 8), segs(1, 9))).toEqual({ d: 1, n: [{ msn: 8, file: 'seg-8.m4s' }] });
    expect(roundTrip([part(2, 0)], [part(2, 0), part(2, 1)])).toEqual({ d: 0, n: [part(2, 1)] });
    expect(roundTrip([part(2, 0), part(2, 1)], [])).toEqual({ '=': [] });
  });

  it('patches the last entry both windows have when it grew, and replaces an array that did not slide', () => {
    const open = { msn: 6, parts: { epoch: 1, closed: false, parts: [part(6, 0), part(6, 1)] } };
    const grown = { msn: 6, parts: { epoch: 1, closed: false, parts: [part(6, 0), part(6, 1), part(6, 2)] } };
    const closed = { ...grown, parts: { ...grown.parts, closed: true } };
    const before = { msn: 5, parts: { epoch: 1, closed: true, parts: [part(5, 0)] } };
    expect(roundTrip([before, open], [before, grown])).toEqual({ d: 0, p: { o: { parts: { o: { parts: { d: 0, n: [part(6, 2)] } } } } } });
    expect(roundTrip([before, grown], [closed])).toEqual({ d: 1, p: { o: { parts: { o: { closed: { '=': true } } } } } });
    // Every entry changed a little (rendition reports): the whole array is smaller than any patch of it.
    const reports = (p: number) => ['1080p', '480p', '360p'].map((rendition) => ({ rendition, lastMsn: 5, lastPart: p }));
    expect(roundTrip(reports(1), reports(2))).toEqual({ '=': reports(2) });
  });

  it('sends changed, added and deleted keys only, with undefined keys counted as absent', () => {
    expect(roundTrip({ a: 1, b: { c: 2, d: 3 }, e: 4 }, { a: 1, b: { c: 2, d: 5 }, f: 6 })).toEqual({ o: { b: { o: { d: { '=': 5 } } }, f: { '=': 6 } }, x: ['e'] });
    expect(diff({ a: 1, b: undefined }, { a: 1 })).toBeUndefined();
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(roundTrip({ a: null }, { a: 0 })).toEqual({ o: { a: { '=': 0 } } });
    expect(roundTrip({ a: [1] }, { a: { 0: 1 } })).toEqual({ o: { a: { '=': { 0: 1 } } } });
    expect(roundTrip('x', 'y')).toEqual({ '=': 'y' });
  });

  it('rebuilds the newer value exactly over 2,000 random changes of playlist-shaped data', () => {
    const next = random(42);
    const pick = (n: number) => Math.floor(next() * n);
    let msn = 10;
    let parts = 0;
    const state = () => ({
      status: 'live',
      segments: Array.from({ length: 4 + pick(3) }, (_, i) => ({ msn: msn - 6 + i, file: `seg-${msn - 6 + i}.m4s`, gap: next() < 0.05 })),
      trailingParts: Array.from({ length: parts }, (_, i) => part(msn, i)),
      preloadHint: next() < 0.1 ? null : `part-${msn}-${parts}.m4s`,
      reports: next() < 0.5 ? [{ rendition: 'a', lastMsn: msn, lastPart: parts }] : [],
      ...(next() < 0.2 ? { endedAt: pick(1000) } : {}),
    });
    let from: unknown = state();
    for (let i = 0; i < 2000; i++) {
      if (next() < 0.3) {
        msn++;
        parts = 0;
      } else parts++;
      const to = state();
      roundTrip(from, to);
      from = to;
    }
  });

  it('never changes the value it patches (readers may still hold it)', () => {
    const from = { list: [part(1, 0), part(1, 1)], deep: { a: [1, 2] } };
    const copy = structuredClone(from);
    applyPatch(from, diff(from, { list: [part(1, 1), part(1, 2)], deep: { a: [1, 2, 3] } })!);
    expect(from).toEqual(copy);
  });

  it('refuses a patch made for a value of another shape', () => {
    expect(() => applyPatch({ a: 1 }, { d: 2 })).toThrow(/not an array/);
    expect(() => applyPatch([1], { d: 2 })).toThrow(/not an array of the expected length/);
    expect(() => applyPatch([1], { o: {} })).toThrow(/not an object/);
  });
});
