import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JpegFrameSplitter } from './jpeg-frame-splitter.ts';

const jpeg = (fill: number, n = 8) => Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array<number>(n).fill(fill), 0xff, 0x00, 0xff, 0xd9]);

describe('JpegFrameSplitter', () => {
  it('cuts pictures at EOI however the bytes are chunked', () => {
    const stream = Buffer.concat([jpeg(1), jpeg(2, 20), jpeg(3)]);
    for (const size of [1, 3, 7, stream.length]) {
      const splitter = new JpegFrameSplitter();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...splitter.push(stream.subarray(i, i + size)));
      expect(out).toEqual([jpeg(1), jpeg(2, 20), jpeg(3)]);
    }
  });

  it('drops an unfinished picture over the limit', () => {
    const splitter = new JpegFrameSplitter(16);
    expect(splitter.push(Buffer.from([0xff, 0xd8, ...Array<number>(32).fill(7)]))).toEqual([]);
    expect(splitter.push(jpeg(4))).toEqual([jpeg(4)]);
  });
});
