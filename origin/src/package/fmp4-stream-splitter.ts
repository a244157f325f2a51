import { concatBytes } from '../../../shared/src/bytes/concat-bytes.ts';
import { readBoxAt } from '../../../shared/src/mp4/mp4-box.ts';

/** A complete unit cut from a fragmented MP4 byte stream. */
export type Fmp4Chunk = { kind: 'init'; bytes: Uint8Array } | { kind: 'fragment'; bytes: Uint8Array };

/**
 * Cuts a fragmented MP4 byte stream (as ffmpeg's mp4 muxer writes it with `empty_moov` and
 * `frag_keyframe`) into the init segment (ftyp + moov) and fragments (any styp/prft/emsg, moof,
 * mdat). Pure and incremental: push bytes as they arrive, get whole chunks back.
 */
export class Fmp4StreamSplitter {
  #parts: Uint8Array[] = [];
  #size = 0;
  /** Bytes needed before the next box can be complete: joining earlier would copy for nothing. */
  #needed = 8;
  #sawInit = false;
  /** Boxes of the unit being assembled (init or fragment). */
  #unit: Uint8Array[] = [];

  /** Feeds bytes; returns the chunks completed by them. Throws on a malformed box header. */
  push(bytes: Uint8Array): Fmp4Chunk[] {
    this.#parts.push(bytes);
    this.#size += bytes.length;
    if (this.#size < this.#needed) return [];
    const buffer = concatBytes(this.#parts, this.#size);
    const out: Fmp4Chunk[] = [];
    let offset = 0;
    for (;;) {
      const box = readBoxAt(buffer, offset);
      if (!box) break;
      offset = box.end;
      const chunk = this.#take(box.type, buffer.subarray(box.start, box.end));
      if (chunk) out.push(chunk);
    }
    const rest = buffer.slice(offset);
    this.#parts = rest.length ? [rest] : [];
    this.#size = rest.length;
    this.#needed = rest.length >= 16 ? boxSizeOf(rest) : 16;
    return out;
  }

  /** Bytes held that do not yet form a whole box. */
  get bufferedBytes(): number {
    return this.#size;
  }

  #take(type: string, bytes: Uint8Array): Fmp4Chunk | null {
    if (type === 'mfra' || type === 'free' || type === 'skip') return null;
    this.#unit.push(bytes);
    if (!this.#sawInit && type === 'moov') {
      this.#sawInit = true;
      return { kind: 'init', bytes: this.#flushUnit() };
    }
    if (type === 'mdat' && this.#sawInit) return { kind: 'fragment', bytes: this.#flushUnit() };
    return null;
  }

  #flushUnit(): Uint8Array {
    const out = concatBytes(this.#unit);
    this.#unit = [];
    return out;
  }
}

/** Declared size of the box whose header starts `buf` (at least 16 bytes present). */
function boxSizeOf(buf: Uint8Array): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = view.getUint32(0);
  if (size === 1) return Number(view.getBigUint64(8));
  return size === 0 ? Number.MAX_SAFE_INTEGER : Math.max(size, 8);
}
