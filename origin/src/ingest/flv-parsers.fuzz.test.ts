import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlvMediaProbe } from './flv-media-probe.ts';
import { FlvTagFramer } from './flv-tag-framer.ts';

/** A thrown parse refusal is an Error with a message; a TypeError or RangeError is a bug escaping. */
function expectParseError(err: unknown): void {
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).name).toBe('Error');
  expect((err as Error).message.length).toBeGreaterThan(0);
}

const FLV_HEADER = [0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0];

/** A structured-but-wrong tag: right shape, arbitrary type, size fields and body. */
const tagArb = fc.record({ type: fc.integer({ min: 0, max: 255 }), declared: fc.integer({ min: 0, max: 0xffffff }), body: fc.uint8Array({ maxLength: 300 }) }).map(({ type, declared, body }) => {
  const tag = new Uint8Array(11 + body.length + 4);
  tag.set([type, (declared >> 16) & 0xff, (declared >> 8) & 0xff, declared & 0xff], 0);
  tag.set(body, 11);
  return tag;
});

describe('FLV parsers under untrusted bytes (fast-check)', () => {
  it('FlvTagFramer: arbitrary chunks after a valid header never throw anything but a parse error, and hold at most its tag limit', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 2048 }), tagArb), { maxLength: 30 }), (chunks) => {
        const framer = new FlvTagFramer({ maxTagBytes: 64 * 1024 });
        try {
          framer.push(new Uint8Array(FLV_HEADER));
          for (const c of chunks) for (const tag of framer.push(c)) expect(tag.length).toBeLessThanOrEqual(64 * 1024 + 15);
        } catch (err) {
          expectParseError(err);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('FlvTagFramer: a stream that is not FLV is refused with a reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 13, maxLength: 200 }).filter((b) => !(b[0] === 0x46 && b[1] === 0x4c && b[2] === 0x56)), (bytes) => {
        expect(() => new FlvTagFramer().push(bytes)).toThrow('relayed stream does not start with an FLV header');
      }),
    );
  });

  it('FlvMediaProbe: arbitrary tags never throw and always give a result', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(tagArb, fc.uint8Array({ maxLength: 64 })), { maxLength: 20 }), (tags) => {
        const probe = new FlvMediaProbe();
        for (const t of tags) probe.push(t);
        expect(() => probe.result()).not.toThrow();
      }),
      { numRuns: 400 },
    );
  });
});
