import { SegmentStoreError } from './segment-store-error.ts';

/** S3 and R2 limit keys to 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

const encoder = new TextEncoder();

/** Throws `invalid_key` unless `key` is a key edgelive may write: non-empty, relative, ≤ 1024 bytes. */
export function checkObjectKey(key: string): void {
  if (key.length === 0) throw new SegmentStoreError('invalid_key', 'object key is empty', { key });
  if (key.startsWith('/')) {
    throw new SegmentStoreError('invalid_key', `object key must not start with "/": ${key}`, { key });
  }
  if (encoder.encode(key).byteLength > MAX_KEY_BYTES) {
    throw new SegmentStoreError('invalid_key', `object key is longer than ${MAX_KEY_BYTES} bytes`, { key });
  }
}

/** Throws `invalid_key` for an empty prefix, which would match (and delete) the whole bucket. */
export function checkPrefix(prefix: string): void {
  if (prefix.length === 0) {
    throw new SegmentStoreError('invalid_key', 'refusing an empty prefix: it would delete the whole bucket');
  }
  checkObjectKey(prefix);
}
