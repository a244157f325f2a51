import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IMMUTABLE_CACHE_CONTROL, cacheControlFor, contentTypeFor } from './media-headers.ts';
import type { SegmentStore, StoredObject } from './segment-store.ts';
import { SegmentStoreError } from './segment-store-error.ts';

/** Headers as the backend itself reports them, bypassing the store under test. */
export interface RawObjectHead {
  contentType: string | undefined;
  cacheControl: string | undefined;
  contentLength: number | undefined;
}

/** How the suite gets a fresh store, and optionally a raw view of the backend. */
export interface SegmentStoreHarness {
  /** A new, open store; the suite closes it after each test. Stores may share a backend. */
  create(): SegmentStore | Promise<SegmentStore>;
  /** Reads an object's headers straight from the backend (S3: HeadObject), `null` when absent. */
  rawHead?(key: string): Promise<RawObjectHead | null>;
}

/** Reads a stored object's body to the end. */
export async function readBody(object: StoredObject): Promise<Uint8Array> {
  return new Uint8Array(await new Response(object.body).arrayBuffer());
}

const SEGMENT = { contentType: contentTypeFor('seg-1.m4s'), cacheControl: cacheControlFor('seg-1.m4s') };
const INIT = { contentType: contentTypeFor('init.mp4'), cacheControl: cacheControlFor('init.mp4') };

/** Every byte value once, so encoding mistakes (UTF-8, base64, chunk framing) show up. */
function allByteValues(): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, i) => i);
}

async function expectStoreError(promise: Promise<unknown>, code: SegmentStoreError['code']): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SegmentStoreError);
  expect((error as SegmentStoreError).code).toBe(code);
}

/** The contract every SegmentStore implementation must pass. */
export function describeSegmentStore(name: string, harness: SegmentStoreHarness): void {
  describe(`SegmentStore contract: ${name}`, () => {
    let store: SegmentStore;
    let base: string;

    beforeEach(async () => {
      store = await harness.create();
      base = `suite-${randomUUID()}/`;
    });

    afterEach(async () => {
      await store.close('test finished');
    });

    it('round-trips exact bytes, content type, length, cache control and etag', async () => {
      const key = `${base}720p/seg-1.m4s`;
      const bytes = allByteValues();
      await store.put(key, bytes, SEGMENT);

      const object = await store.get(key);
      expect(object).not.toBeNull();
      expect(object?.contentType).toBe('video/iso.segment');
      expect(object?.contentLength).toBe(256);
      expect(object?.cacheControl).toBe(IMMUTABLE_CACHE_CONTROL);
      expect(object?.etag).toMatch(/^"[^"]+"$/);
      expect(await readBody(object!)).toEqual(bytes);
    });

    it('stores exactly the bytes of a view into a larger buffer', async () => {
      const key = `${base}720p/init.mp4`;
      const backing = Uint8Array.from({ length: 64 }, (_, i) => i);
      const view = backing.subarray(10, 20);
      await store.put(key, view, INIT);

      const object = await store.get(key);
      expect(object?.contentLength).toBe(10);
      expect(await readBody(object!)).toEqual(Uint8Array.from({ length: 10 }, (_, i) => i + 10));
    });

    it('round-trips an empty object', async () => {
      const key = `${base}empty.m4s`;
      await store.put(key, new Uint8Array(0), SEGMENT);

      const object = await store.get(key);
      expect(object?.contentLength).toBe(0);
      expect(await readBody(object!)).toEqual(new Uint8Array(0));
    });

    it('keeps what was stored when the caller reuses its buffer afterwards', async () => {
      const key = `${base}reused.m4s`;
      const buffer = new Uint8Array([1, 2, 3]);
      await store.put(key, buffer, SEGMENT);
      buffer.fill(9);

      expect(await readBody((await store.get(key))!)).toEqual(new Uint8Array([1, 2, 3]));
    });

    it('returns null for a key that was never written', async () => {
      expect(await store.get(`${base}720p/seg-404.m4s`)).toBeNull();
    });

    it('overwrites bytes, headers and etag', async () => {
      const key = `${base}720p/index.m3u8`;
      await store.put(key, new TextEncoder().encode('#EXTM3U\n#EXT-X-VERSION:9\n'), INIT);
      const first = await store.get(key);
      await readBody(first!);

      const playlist = { contentType: contentTypeFor('index.m3u8'), cacheControl: cacheControlFor('index.m3u8') };
      await store.put(key, new TextEncoder().encode('#EXTM3U\n'), playlist);
      const second = await store.get(key);

      expect(second?.contentType).toBe('application/vnd.apple.mpegurl');
      expect(second?.cacheControl).toBe('no-cache');
      expect(second?.contentLength).toBe(8);
      expect(second?.etag).not.toBe(first?.etag);
      expect(new TextDecoder().decode(await readBody(second!))).toBe('#EXTM3U\n');
    });

    it('gives the same etag for the same stored object', async () => {
      const key = `${base}stable.m4s`;
      await store.put(key, new Uint8Array([7, 7, 7]), SEGMENT);
      const a = await store.get(key);
      const b = await store.get(key);
      await Promise.all([readBody(a!), readBody(b!)]);
      expect(a?.etag).toBeDefined();
      expect(a?.etag).toBe(b?.etag);
    });

    it('deletePrefix removes exactly the keys under the prefix and counts them', async () => {
      const doomed = [`${base}s1/720p/init.mp4`, `${base}s1/720p/seg-1.m4s`, `${base}s1/360p/seg-1.m4s`];
      const kept = [`${base}s10/720p/seg-1.m4s`, `${base}s2/720p/seg-1.m4s`, `${base}s1.m3u8`];
      await Promise.all([...doomed, ...kept].map((key) => store.put(key, new Uint8Array([1]), SEGMENT)));

      expect(await store.deletePrefix(`${base}s1/`)).toBe(3);

      for (const key of doomed) expect(await store.get(key)).toBeNull();
      for (const key of kept) {
        const object = await store.get(key);
        expect(object, key).not.toBeNull();
        await readBody(object!);
      }
      expect(await store.deletePrefix(`${base}s1/`)).toBe(0);
    });

    it('lands all of 50 concurrent puts', async () => {
      const keys = Array.from({ length: 50 }, (_, i) => `${base}burst/seg-${i}.m4s`);
      await Promise.all(keys.map((key, i) => store.put(key, new Uint8Array([i, i + 1, i + 2]), SEGMENT)));

      const bodies = await Promise.all(
        keys.map(async (key) => {
          const object = await store.get(key);
          return object === null ? null : Array.from(await readBody(object));
        }),
      );
      expect(bodies).toEqual(keys.map((_, i) => [i, i + 1, i + 2]));
      expect(await store.deletePrefix(`${base}burst/`)).toBe(50);
    });

    it('refuses empty and absolute keys and an empty prefix with invalid_key', async () => {
      await expectStoreError(store.put('', new Uint8Array([1]), SEGMENT), 'invalid_key');
      await expectStoreError(store.put('/abs/seg.m4s', new Uint8Array([1]), SEGMENT), 'invalid_key');
      await expectStoreError(store.get(''), 'invalid_key');
      await expectStoreError(store.deletePrefix(''), 'invalid_key');
    });

    it('fails with store_closed after close, and close is idempotent', async () => {
      await store.close('shutting down');
      await store.close('again');
      await expectStoreError(store.put(`${base}late.m4s`, new Uint8Array([1]), SEGMENT), 'store_closed');
      await expectStoreError(store.get(`${base}late.m4s`), 'store_closed');
      await expectStoreError(store.deletePrefix(base), 'store_closed');
    });

    const { rawHead } = harness;
    if (rawHead === undefined) return;

    it('writes Content-Type and Cache-Control on the stored object itself', async () => {
      const segment = `${base}720p/seg-9.m4s`;
      const playlist = `${base}720p/index.m3u8`;
      await store.put(segment, new Uint8Array(1000), SEGMENT);
      await store.put(playlist, new TextEncoder().encode('#EXTM3U\n'), {
        contentType: contentTypeFor(playlist),
        cacheControl: cacheControlFor(playlist),
      });

      expect(await rawHead(segment)).toEqual({
        contentType: 'video/iso.segment',
        cacheControl: 'public, max-age=31536000, immutable',
        contentLength: 1000,
      });
      expect(await rawHead(playlist)).toEqual({
        contentType: 'application/vnd.apple.mpegurl',
        cacheControl: 'no-cache',
        contentLength: 8,
      });
      expect(await rawHead(`${base}missing.m4s`)).toBeNull();
    });
  });
}
