/**
 * MurmurHash3 x86 32-bit (Austin Appleby, public domain) over a string's UTF-8 bytes. Pure.
 * Two calls with different seeds give the 64 well-mixed bits rendezvous hashing needs without
 * BigInt, which costs about ten times as much per byte in V8.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const utf8 = new TextEncoder();

/** Bytes of `s` as UTF-8; ASCII (ids, session ids, paths) is copied without the encoder. */
function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return utf8.encode(s);
    out[i] = c;
  }
  return out;
}

/** MurmurHash3_x86_32 of `s` (UTF-8) with `seed`, as an unsigned 32-bit integer. */
export function murmur3(s: string, seed: number): number {
  const data = bytesOf(s);
  const len = data.length;
  const blocks = len & ~3;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 4) {
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  switch (len & 3) {
    case 3:
      k ^= data[blocks + 2]! << 16;
    // falls through
    case 2:
      k ^= data[blocks + 1]! << 8;
    // falls through
    case 1:
      k ^= data[blocks]!;
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
  }
  h ^= len;
  // fmix32: full avalanche, so keys differing in one character land far apart.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number strictly between 0 and 1 from 53 bits of two seeded MurmurHash3 rounds. */
export function hash01(s: string): number {
  const hi = murmur3(s, 0x9747b28c) >>> 11; // 21 bits
  const lo = murmur3(s, 0x5bd1e995); // 32 bits
  // (n + 0.5) / 2^53 is never 0 or 1, so ln() below stays finite and negative.
  return (hi * 4294967296 + lo + 0.5) / 9007199254740992;
}
