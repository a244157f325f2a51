import { describe, expect, it } from 'vitest';
import { HotMedia } from './hot-media.ts';

const file = (n: number) => ({ bytes: new ArrayBuffer(n), etag: null });

describe('HotMedia', () => {
  it('keeps files within its byte budget, dropping the least recently used first', () => {
    const hot = new HotMedia(10, 6);
    hot.set('a', file(4));
    hot.set('b', file(4));
    expect(hot.get('a')?.bytes.byteLength).toBe(4); // a is now the most recent
    hot.set('c', file(4)); // 12 > 10: b goes
    expect(hot.get('b')).toBeUndefined();
    expect(hot.get('a')).toBeDefined();
    expect(hot.get('c')).toBeDefined();
    expect(hot.bytes).toBe(8);
  });

  it('leaves files larger than a file may be, and counts a replaced file once', () => {
    const hot = new HotMedia(10, 6);
    hot.set('big', file(7));
    expect(hot.get('big')).toBeUndefined();
    hot.set('a', file(3));
    hot.set('a', file(5));
    expect(hot.bytes).toBe(5);
  });
});

