import { describe, expect, it } from 'vitest';
import { concatBytes } from './concat-bytes.ts';

describe('concatBytes', () => {
  it('joins chunks in order', () => {
    expect([...concatBytes([new Uint8Array([1, 2]), new Uint8Array([]), new Uint8Array([3])])]).toEqual([1, 2, 3]);
  });

  it('returns a lone chunk itself and an empty array for none', () => {
    const only = new Uint8Array([7]);
    expect(concatBytes([only])).toBe(only);
    expect(concatBytes([]).byteLength).toBe(0);
  });
});
