import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './registry-cursor.ts';

describe('registry cursor', () => {
  it('round-trips a position through an opaque URL-safe string', () => {
    const cursor = encodeCursor({ createdAt: 1735689600123, id: 'abcdefgh12345678' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ createdAt: 1735689600123, id: 'abcdefgh12345678' });
  });

  it('rejects strings that are not cursors', () => {
    expect(decodeCursor('not a cursor!')).toBeUndefined();
    expect(decodeCursor(btoa('12.UPPER'))).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });
});
