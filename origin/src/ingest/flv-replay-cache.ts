const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
const FLV_SCRIPT = 18;

/**
 * What a new decoder needs to join a running FLV stream: the file header, metadata, both sequence
 * headers and the current GOP (from its keyframe on). A restarted ffmpeg is fed `replay()` and
 * then the live tags, so it starts on a keyframe. Bounded: a GOP over `maxGopBytes` is dropped
 * (the replay then waits for the next keyframe). Pure.
 */
export class FlvReplayCache {
  #header: Buffer | undefined;
  #metadata: Buffer | undefined;
  #audioConfig: Buffer | undefined;
  #videoConfig: Buffer | undefined;
  #gop: Buffer[] = [];
  #gopBytes = 0;
  readonly #maxGopBytes: number;

  constructor(opts: { maxGopBytes?: number } = {}) {
    this.#maxGopBytes = opts.maxGopBytes ?? 8 * 1024 * 1024;
  }

  /** Records one unit (file header or whole tag). */
  push(tag: Buffer): void {
    if (tag.length >= 3 && tag.toString('latin1', 0, 3) === 'FLV') {
      this.#header = tag;
      return;
    }
    if (tag.length < 13) return;
    const type = tag[0]! & 0x1f;
    const b0 = tag[11];
    const b1 = tag[12];
    if (type === FLV_SCRIPT) this.#metadata = tag;
    else if (type === FLV_AUDIO && b0 !== undefined && b0 >> 4 === 10 && b1 === 0) this.#audioConfig = tag;
    else if (type === FLV_VIDEO && b0 !== undefined && (b0 & 0x0f) === 7 && b1 === 0) this.#videoConfig = tag;
    else if (type === FLV_VIDEO && b0 !== undefined && b0 >> 4 === 1) {
      this.#gop = [tag];
      this.#gopBytes = tag.length;
    } else if (this.#gop.length > 0) {
      this.#gopBytes += tag.length;
      if (this.#gopBytes > this.#maxGopBytes) {
        this.#gop = [];
        this.#gopBytes = 0;
      } else this.#gop.push(tag);
    }
  }

  /** Header, metadata, sequence headers and the current GOP, in order. */
  replay(): Buffer[] {
    return [this.#header, this.#metadata, this.#audioConfig, this.#videoConfig, ...this.#gop].filter((t): t is Buffer => t !== undefined);
  }
}
