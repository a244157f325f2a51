import { concatBytes } from '../../../shared/src/bytes/concat-bytes.ts';

/**
 * The body of a request or response if it is at most `limit` bytes, else null. Reads no further
 * than the first chunk past the limit and cancels the rest, so an oversized (or unannounced-length)
 * body is never buffered whole.
 */
export async function readBodyAtMost(message: Request | Response, limit: number): Promise<Uint8Array | null> {
  if (!message.body) return new Uint8Array();
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return concatBytes(chunks, size);
}
