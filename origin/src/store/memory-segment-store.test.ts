import { describe, expect, it } from 'vitest';
import { MemorySegmentStore } from './memory-segment-store.ts';
import { describeSegmentStore } from './segment-store-suite.ts';

describeSegmentStore('MemorySegmentStore', { create: () => new MemorySegmentStore() });

describe('MemorySegmentStore', () => {
  it('lists its keys and remembers why it was closed', async () => {
    const store = new MemorySegmentStore();
    await store.put('s/b.m4s', new Uint8Array([1]), { contentType: 'video/iso.segment', cacheControl: 'no-cache' });
    await store.put('s/a.mp4', new Uint8Array([1]), { contentType: 'video/mp4', cacheControl: 'no-cache' });
    await store.close('first');
    await store.close('second');

    expect(store.keys()).toEqual(['s/a.mp4', 's/b.m4s']);
    expect(store.closedReason).toBe('first');
  });

  it('uses the quoted MD5 of the bytes as etag, like S3 single-part uploads', async () => {
    const store = new MemorySegmentStore();
    await store.put('k', new TextEncoder().encode('hello world'), { contentType: 'text/plain', cacheControl: 'no-cache' });

    expect((await store.get('k'))?.etag).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');
  });
});
