import { describe, expect, it } from 'vitest';
import { readBodyAtMost } from './read-body-at-most.ts';

/** A body of `chunks` chunks of `size` bytes (byte k of chunk i is i), pulled one at a time; `pulled` counts the chunks read, `cancelled` says whether the reader gave up. */
function body(chunks: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (seen.pulled === chunks) return controller.close();
        controller.enqueue(new Uint8Array(size).fill(seen.pulled++));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

describe('readBodyAtMost', () => {
  it('reads a body within the limit whole, its chunks in order (a response as a request)', async () => {
    const { stream, seen } = body(3, 4);
    expect([...(await readBodyAtMost(new Response(stream), 12))!]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(seen.cancelled).toBe(false);
    expect(await readBodyAtMost(new Response(null), 12)).toEqual(new Uint8Array());
    expect([...(await readBodyAtMost(new Request('http://x/', { method: 'POST', body: 'ab' }), 2))!]).toEqual([97, 98]);
  });

  it('gives up on a body past the limit without reading the rest of it', async () => {
    const { stream, seen } = body(100, 4);
    expect(await readBodyAtMost(new Response(stream), 10)).toBeNull();
    expect(seen.pulled).toBeLessThanOrEqual(4); // 12 bytes read: past 10, and (at most a chunk read ahead) no further
    expect(seen.cancelled).toBe(true);
  });
});
