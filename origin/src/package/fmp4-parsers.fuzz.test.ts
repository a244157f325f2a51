import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../shared/src/bytes/concat-bytes.ts';
import { parseFragment } from '../../../shared/src/mp4/fmp4-fragment-info.ts';
import { parseInitSegment, type InitInfo } from '../../../shared/src/mp4/fmp4-init-info.ts';
import { childBoxes, readBoxAt } from '../../../shared/src/mp4/mp4-box.ts';
import { Fmp4StreamSplitter } from './fmp4-stream-splitter.ts';

/** A refusal must be a plain Error naming what was wrong; TypeError/RangeError would be a bug escaping. */
function expectParseError(err: unknown): void {
  expect(err).toBeInstanceOf(Error);
  expect(['Error', 'Mp4ParseError']).toContain((err as Error).name);
}

/** Boxes with arbitrary (often lying) sizes and types from the ones the parsers look for. */
const boxArb = fc
  .record({
    size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffffffff })),
    type: fc.constantFrom('ftyp', 'moov', 'trak', 'mdia', 'mdhd', 'hdlr', 'minf', 'stbl', 'stsd', 'tkhd', 'mvex', 'trex', 'moof', 'traf', 'tfhd', 'tfdt', 'trun', 'mdat', 'avc1', 'avcC', 'mp4a', 'xxxx'),
    body: fc.uint8Array({ maxLength: 96 }),
  })
  .map(({ size, type, body }) => {
    const out = new Uint8Array(8 + body.length);
    new DataView(out.buffer).setUint32(0, size);
    out.set([...type].map((c) => c.charCodeAt(0)), 4);
    out.set(body, 8);
    return out;
  });
const boxesArb = fc.array(boxArb, { maxLength: 12 }).map((boxes) => concatBytes(boxes));
const bytesArb = fc.oneof(boxesArb, fc.uint8Array({ maxLength: 512 }));

describe('fMP4 box parsers under untrusted bytes (fast-check)', () => {
  it('readBoxAt / childBoxes stay inside the buffer', () => {
    fc.assert(
      fc.property(bytesArb, (buf) => {
        try {
          const box = readBoxAt(buf, 0);
          if (box) expect(box.end).toBeLessThanOrEqual(buf.length);
          for (const child of childBoxes(buf)) expect(child.end).toBeLessThanOrEqual(buf.length);
        } catch (err) {
          expectParseError(err); // a size smaller than its header: refused, naming the box
          expect((err as Error).message).toMatch(/^(malformed mp4 box '.{4}' at \d+: size \d+|truncated mp4 box at \d+)$/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('parseInitSegment and parseFragment refuse with a parse error, never a crash', () => {
    fc.assert(
      fc.property(bytesArb, bytesArb, (init, frag) => {
        let info: InitInfo | undefined;
        try {
          info = parseInitSegment(init);
        } catch (err) {
          expectParseError(err);
        }
        const tracks: InitInfo = info ?? { tracks: [{ trackId: 1, kind: 'video', timescale: 90_000, codec: 'avc1.64001f', width: 1280, height: 720, defaultSampleDuration: 3000, defaultSampleFlags: 0 }] };
        try {
          parseFragment(frag, tracks);
        } catch (err) {
          expectParseError(err);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('Fmp4StreamSplitter: arbitrary chunks never crash it', () => {
    fc.assert(
      fc.property(fc.array(bytesArb, { maxLength: 10 }), (chunks) => {
        const splitter = new Fmp4StreamSplitter();
        try {
          for (const c of chunks) splitter.push(c);
        } catch (err) {
          expectParseError(err);
        }
      }),
      { numRuns: 300 },
    );
  });
});
