import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalescer.ts';

describe('Coalescer', () => {
  it('runs one load for concurrent callers of the same key and forgets it when settled', async () => {
    const coalescer = new Coalescer<string>();
    let calls = 0;
    let release!: (v: string) => void;
    const load = () => {
      calls++;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const runs = Array.from({ length: 10 }, () => coalescer.run('/live/a/master.m3u8', load));
    expect(calls).toBe(1);
    expect(runs.map((r) => r.started)).toEqual([true, ...Array<boolean>(9).fill(false)]);
    expect(coalescer.size).toBe(1);
    release('playlist');
    expect(await Promise.all(runs.map((r) => r.promise))).toEqual(Array<string>(10).fill('playlist'));
    expect(coalescer.size).toBe(0);
    coalescer.run('/live/a/master.m3u8', async () => 'again');
    expect(calls).toBe(1);
  });

  it('keeps keys apart and shares a rejection with every waiter', async () => {
    const coalescer = new Coalescer<string>();
    const a = coalescer.run('a', () => Promise.reject(new Error('boom')));
    const a2 = coalescer.run('a', () => Promise.resolve('never'));
    const b = coalescer.run('b', () => Promise.resolve('b'));
    await expect(a.promise).rejects.toThrow('boom');
    await expect(a2.promise).rejects.toThrow('boom');
    expect(await b.promise).toBe('b');
    expect(coalescer.size).toBe(0);
  });
});
