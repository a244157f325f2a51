/**
 * Cuts ffmpeg's MJPEG `image2pipe` output into whole JPEG files: each starts with SOI (FF D8) and
 * ends with EOI (FF D9). Inside the entropy-coded data an FF byte is always followed by 00 or a
 * restart marker, so FF D9 marks the end of a picture. Holds at most `maxBytes` of an unfinished
 * picture (a broken stream cannot grow memory).
 */
export class JpegFrameSplitter {
  #pending: Buffer = Buffer.alloc(0);
  readonly #maxBytes: number;

  constructor(maxBytes = 4 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  /** Feeds bytes; returns the pictures they complete. */
  push(data: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? data : Buffer.concat([this.#pending, data]);
    const pictures: Buffer[] = [];
    for (;;) {
      const start = this.#pending.indexOf(SOI);
      if (start < 0) {
        // A trailing FF may be the first half of the next SOI.
        this.#pending = this.#pending.at(-1) === 0xff ? this.#pending.subarray(-1) : Buffer.alloc(0);
        break;
      }
      const end = this.#pending.indexOf(EOI, start + 2);
      if (end < 0) {
        this.#pending = this.#pending.subarray(start);
        break;
      }
      pictures.push(Buffer.from(this.#pending.subarray(start, end + 2)));
      this.#pending = this.#pending.subarray(end + 2);
    }
    if (this.#pending.length > this.#maxBytes) this.#pending = Buffer.alloc(0);
    return pictures;
  }
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);
