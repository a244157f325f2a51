import { describe, expect, it } from 'vitest';
import { FlvReplayCache } from './flv-replay-cache.ts';
import { FlvTagFramer } from './flv-tag-framer.ts';
import { flvTag } from './flv-test-tags.ts';

const header = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
const tag = flvTag;
const meta = tag(18, [2, 0, 1, 0x41]);
const aacConfig = tag(8, [0xaf, 0, 0x12, 0x10]);
const avcConfig = tag(9, [0x17, 0, 0, 0, 0, 1]);
const key1 = tag(9, [0x17, 1, 0, 0, 0, 0xaa]);
const inter = tag(9, [0x27, 1, 0, 0, 0, 0xbb]);
const audio = tag(8, [0xaf, 1, 0xcc]);
const key2 = tag(9, [0x17, 1, 0, 0, 0, 0xdd]);

describe('FlvTagFramer', () => {
  it('cuts a stream split at arbitrary bytes back into the header and whole tags', () => {
    const all = Buffer.concat([header, meta, avcConfig, key1, inter]);
    const framer = new FlvTagFramer();
    const out: Buffer[] = [];
    for (let i = 0; i < all.length; i += 7) out.push(...framer.push(all.subarray(i, i + 7)));
    expect(out).toEqual([header, meta, avcConfig, key1, inter]);
  });

  it('refuses a stream that is not FLV and an oversized tag', () => {
    expect(() => new FlvTagFramer().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow('relayed stream does not start with an FLV header');
    const big = Buffer.from([9, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => new FlvTagFramer({ maxTagBytes: 1024 }).push(Buffer.concat([header, big]))).toThrow('FLV tag of 1048591 bytes is over the 1024-byte limit');
  });
});

describe('FlvReplayCache', () => {
  it('replays header, metadata, sequence headers and the GOP since the last keyframe', () => {
    const cache = new FlvReplayCache();
    for (const t of [header, meta, aacConfig, avcConfig, inter, key1, inter, audio, key2, audio]) cache.push(t);
    expect(cache.replay()).toEqual([header, meta, aacConfig, avcConfig, key2, audio]);
  });

  it('drops a GOP that outgrows its bound rather than growing without limit', () => {
    const cache = new FlvReplayCache({ maxGopBytes: key1.length + inter.length });
    for (const t of [header, avcConfig, key1, inter, inter]) cache.push(t);
    expect(cache.replay()).toEqual([header, avcConfig]);
  });
});
