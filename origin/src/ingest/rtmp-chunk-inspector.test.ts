import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../shared/src/bytes/concat-bytes.ts';
import { amf0CommandName, DEFAULT_RTMP_LIMITS, RtmpChunkInspector } from './rtmp-chunk-inspector.ts';

const HANDSHAKE = new Uint8Array(1537 + 1536);

/** One whole message on `csid` as type-0 chunk + type-3 continuations of `chunkSize`. */
function message(csid: number, type: number, payload: Uint8Array, chunkSize = 128, declared = payload.length): Uint8Array {
  const parts: number[] = [csid & 0x3f, 0, 0, 0, (declared >> 16) & 0xff, (declared >> 8) & 0xff, declared & 0xff, type, 0, 0, 0, 0];
  for (let off = 0; off < payload.length; off += chunkSize) {
    if (off > 0) parts.push(0xc0 | (csid & 0x3f));
    parts.push(...payload.subarray(off, off + chunkSize));
  }
  return new Uint8Array(parts);
}

function amfString(s: string): number[] {
  return [0x02, s.length >> 8, s.length & 0xff, ...[...s].map((c) => c.charCodeAt(0))];
}

function setChunkSize(size: number): Uint8Array {
  return message(2, 1, new Uint8Array([(size >>> 24) & 0x7f, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff]));
}

describe('RtmpChunkInspector', () => {
  it('passes a handshake, a chunk size change, connect and publish, split at any byte', () => {
    const stream = [HANDSHAKE, setChunkSize(4096), message(3, 20, new Uint8Array([...amfString('connect'), 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0])), message(8, 20, new Uint8Array([...amfString('publish'), ...new Array(300).fill(5)]), 4096), message(4, 9, new Uint8Array(10_000), 4096)];
    const all = concatBytes(stream);
    for (const step of [1, 7, 1000, all.length]) {
      const inspector = new RtmpChunkInspector();
      for (let i = 0; i < all.length; i += step) expect(inspector.push(all.subarray(i, i + step))).toBeNull();
      expect(inspector.handshakeDone).toBe(true);
      expect(inspector.publishSeen).toBe(true);
      expect(inspector.pendingBytes).toBe(0);
    }
  });

  it('reports each whole message with its timestamp: absolute (type 0), deltas (types 1 and 2), a repeated delta (type 3), extended', () => {
    const seen: { type: number; timestamp: number; length: number }[] = [];
    const inspector = new RtmpChunkInspector(DEFAULT_RTMP_LIMITS, (m) => seen.push(m));
    const ts = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
    const len = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
    const bytes = new Uint8Array([
      ...HANDSHAKE,
      // type 0 on csid 4: video, t=1000, 200 bytes in two chunks (128 + 72)
      0x04, ...ts(1000), ...len(200), 9, 1, 0, 0, 0, ...new Array(128).fill(1), 0xc4, ...new Array(72).fill(1),
      // type 1: delta 33, new length 10
      0x44, ...ts(33), ...len(10), 9, ...new Array(10).fill(2),
      // type 2: delta 34, same length
      0x84, ...ts(34), ...new Array(10).fill(3),
      // type 3 starting a new message: the delta 34 again
      0xc4, ...new Array(10).fill(4),
      // type 0 on csid 6 with an extended timestamp (0x01000000 ms), audio, 4 bytes
      0x06, 0xff, 0xff, 0xff, ...len(4), 8, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00, 9, 9, 9, 9,
    ]);
    for (let i = 0; i < bytes.length; i += 50) expect(inspector.push(bytes.subarray(i, i + 50))).toBeNull();
    expect(seen).toEqual([
      { type: 9, timestamp: 1000, length: 200 },
      { type: 9, timestamp: 1033, length: 10 },
      { type: 9, timestamp: 1067, length: 10 },
      { type: 9, timestamp: 1101, length: 10 },
      { type: 8, timestamp: 0x01000000, length: 4 },
    ]);
  });

  it('refuses a declared message over the limit before its payload arrives', () => {
    const inspector = new RtmpChunkInspector();
    inspector.push(HANDSHAKE);
    const header = message(4, 9, new Uint8Array(0), 128, 16 * 1024 * 1024 - 1).subarray(0, 12);
    expect(inspector.push(header)).toEqual({ code: 'message_length', message: `a message of ${16 * 1024 * 1024 - 1} bytes declared (at most ${DEFAULT_RTMP_LIMITS.maxMessageBytes})` });
    expect(inspector.phase).toBe('failed');
  });

  it('refuses a huge chunk size, too many chunk streams, and too many pending bytes', () => {
    const big = new RtmpChunkInspector();
    big.push(HANDSHAKE);
    expect(big.push(setChunkSize(0x7fffffff))?.code).toBe('chunk_size');
    const many = new RtmpChunkInspector();
    many.push(HANDSHAKE);
    let last = null;
    for (let csid = 3; csid < 3 + 20 && !last; csid++) last = many.push(message(csid, 9, new Uint8Array(0)));
    expect(last?.code).toBe('chunk_streams');
    const pending = new RtmpChunkInspector();
    pending.push(HANDSHAKE);
    // Three messages of 3 MiB declared at once (interleaved chunk streams, first chunk each) pass 8 MiB pending.
    const first = (csid: number) => message(csid, 9, new Uint8Array(128), 128, 3 * 1024 * 1024);
    expect(pending.push(first(3))).toBeNull();
    expect(pending.push(first(4))).toBeNull();
    expect(pending.pendingBytes).toBe(6 * 1024 * 1024);
    expect(pending.push(first(5))?.code).toBe('pending_bytes');
  });

  it('refuses a chunk stream that starts without a full header', () => {
    const inspector = new RtmpChunkInspector();
    inspector.push(HANDSHAKE);
    expect(inspector.push(new Uint8Array([0xc5, 1, 2, 3]))?.code).toBe('bad_chunk');
  });

  it('fuzz: arbitrary bytes never throw, and never leave more pending than the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 20 }), (pieces) => {
        const inspector = new RtmpChunkInspector();
        inspector.push(HANDSHAKE);
        for (const p of pieces) {
          const v = inspector.push(p);
          if (v) expect(['chunk_size', 'message_length', 'pending_bytes', 'chunk_streams', 'bad_chunk']).toContain(v.code);
          expect(inspector.pendingBytes).toBeLessThanOrEqual(DEFAULT_RTMP_LIMITS.maxPendingBytes);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('amf0CommandName (fuzz)', () => {
  it('reads a command name and never throws on anything else', () => {
    expect(amf0CommandName(new Uint8Array(amfString('publish')))).toBe('publish');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const name = amf0CommandName(bytes);
        expect(name === null || name.length <= 64).toBe(true);
      }),
    );
  });
});
