import { createHash } from 'node:crypto';
import { checkObjectKey, checkPrefix } from './object-key.ts';
import type { PutOptions, SegmentStore, StoredObject } from './segment-store.ts';
import { SegmentStoreError } from './segment-store-error.ts';

interface MemoryObject {
  bytes: Uint8Array;
  contentType: string;
  cacheControl: string;
  etag: string;
}

/** SegmentStore held in a Map, for unit tests of the modules that write and read segments. */
export class MemorySegmentStore implements SegmentStore {
  readonly #objects = new Map<string, MemoryObject>();
  #closedReason: string | undefined;

  /** The stored keys, sorted (a test helper; the store interface has no listing). */
  keys(): string[] {
    return [...this.#objects.keys()].sort();
  }

  /** Why the store was closed, or `undefined` while it is open. */
  get closedReason(): string | undefined {
    return this.#closedReason;
  }

  /** Copies `body`, so later changes by the caller do not reach the stored object. */
  async put(key: string, body: Uint8Array, opts: PutOptions): Promise<void> {
    checkObjectKey(key);
    this.#assertOpen(key);
    const bytes = body.slice();
    // Same ETag S3 gives a single-part upload: the quoted MD5 of the bytes.
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    this.#objects.set(key, { bytes, contentType: opts.contentType, cacheControl: opts.cacheControl, etag });
  }

  /** A fresh stream over a copy of the stored bytes, or `null`. */
  async get(key: string): Promise<StoredObject | null> {
    checkObjectKey(key);
    this.#assertOpen(key);
    const object = this.#objects.get(key);
    if (!object) return null;
    const bytes = object.bytes.slice();
    return {
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      }),
      contentType: object.contentType,
      contentLength: bytes.byteLength,
      cacheControl: object.cacheControl,
      etag: object.etag,
    };
  }

  /** Removes every key that starts with `prefix`. */
  async deletePrefix(prefix: string): Promise<number> {
    checkPrefix(prefix);
    this.#assertOpen(prefix);
    let deleted = 0;
    for (const key of [...this.#objects.keys()]) {
      if (key.startsWith(prefix) && this.#objects.delete(key)) deleted += 1;
    }
    return deleted;
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    this.#assertOpen(keys[0] ?? '');
    for (const key of keys) this.#objects.delete(key);
  }

  /** Marks the store closed; later calls fail with `store_closed`. The objects are kept for inspection. */
  async close(reason: string): Promise<void> {
    this.#closedReason ??= reason;
  }

  #assertOpen(key: string): void {
    if (this.#closedReason !== undefined) {
      throw new SegmentStoreError('store_closed', `segment store closed: ${this.#closedReason}`, { key });
    }
  }
}
