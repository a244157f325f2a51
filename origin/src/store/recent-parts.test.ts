import { describe, expect, it } from 'vitest';
import { RecentParts } from './recent-parts.ts';

const key = (msn: number, part: number) => `live/abcdefghijklmnop/720p/part-${msn}-${part}-e1.m4s`;

describe('RecentParts', () => {
  it('keeps parts for the keep time, oldest forgotten first', () => {
    let now = 0;
    const parts = new RecentParts({ keepMs: 1000, now: () => now });
    parts.put(key(1, 0), new Uint8Array([1]));
    now = 600;
    parts.put(key(1, 1), new Uint8Array([2]));
    now = 1500;
    parts.put(key(1, 2), new Uint8Array([3]));
    expect(parts.get(key(1, 0))).toBeUndefined();
    expect(parts.get(key(1, 1))).toEqual(new Uint8Array([2]));
    expect(parts.size).toBe(2);
  });

  it('holds a request for a due part until it is put, and answers old or far parts at once', async () => {
    const parts = new RecentParts();
    parts.put(key(5, 0), new Uint8Array([1]));
    const next = parts.getOrWait(key(5, 1), 1000);
    const nextSegment = parts.getOrWait(key(6, 0), 1000);
    expect(await parts.getOrWait(key(4, 3), 1000)).toBeUndefined();
    expect(await parts.getOrWait(key(9, 0), 1000)).toBeUndefined();
    parts.put(key(5, 1), new Uint8Array([2]));
    parts.put(key(6, 0), new Uint8Array([3]));
    expect(await next).toEqual(new Uint8Array([2]));
    expect(await nextSegment).toEqual(new Uint8Array([3]));
    expect(await parts.getOrWait(key(5, 2), 20)).toBeUndefined();
  });
});
