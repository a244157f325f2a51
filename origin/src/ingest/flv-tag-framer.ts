/**
 * Cuts an FLV byte stream (as it arrives over HTTP, in arbitrary chunks) back into the units
 * node-media-server hands its subscribers: the 13-byte file header, then whole tags (11-byte tag
 * header, body, 4-byte previous-tag size). Pure.
 */
export class FlvTagFramer {
  #pending: Buffer = Buffer.alloc(0);
  #headerSeen = false;
  readonly #maxTagBytes: number;

  /** Tags above `maxTagBytes` are refused as garbage rather than buffered. */
  constructor(opts: { maxTagBytes?: number } = {}) {
    this.#maxTagBytes = opts.maxTagBytes ?? 16 * 1024 * 1024;
  }

  /** Feeds bytes; returns every unit completed by them. Throws on a stream that is not FLV. */
  push(chunk: Uint8Array): Buffer[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk);
    const out: Buffer[] = [];
    for (;;) {
      if (!this.#headerSeen) {
        if (this.#pending.length < 13) break;
        if (this.#pending.toString('latin1', 0, 3) !== 'FLV') throw new Error('relayed stream does not start with an FLV header');
        out.push(this.#pending.subarray(0, 13));
        this.#pending = this.#pending.subarray(13);
        this.#headerSeen = true;
        continue;
      }
      if (this.#pending.length < 11) break;
      const size = this.#pending.readUIntBE(1, 3);
      const total = 11 + size + 4;
      if (total > this.#maxTagBytes) throw new Error(`FLV tag of ${total} bytes is over the ${this.#maxTagBytes}-byte limit`);
      if (this.#pending.length < total) break;
      out.push(this.#pending.subarray(0, total));
      this.#pending = this.#pending.subarray(total);
    }
    return out;
  }
}
