import { describe, expect, it } from 'vitest';
import { streamRow } from '../test-support/fake-stream.ts';
import { existingStream, requireStream } from './existing-stream.ts';

describe('existingStream / requireStream', () => {
  it('returns a stream that is not deleted', () => {
    const row = streamRow();
    expect(existingStream(row)).toEqual({ ok: true, value: row });
    expect(requireStream(row)).toBe(row);
  });

  it('answers stream_not_found for a missing or deleted stream', () => {
    const notFound = { ok: false, code: 'stream_not_found', message: 'stream not found' };
    expect(existingStream(null)).toEqual(notFound);
    expect(existingStream(streamRow({ deleted_at: 5 }))).toEqual(notFound);
    expect(() => requireStream(streamRow({ deleted_at: 5 }))).toThrow(expect.objectContaining({ code: 'stream_not_found', message: 'stream not found' }));
  });
});
