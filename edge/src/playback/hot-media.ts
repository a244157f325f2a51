/**
 * Media files this isolate served lately, kept in its memory (least recently used out first, within
 * a byte budget): the init segment and the newest LL-HLS parts and segments are asked for by every
 * viewer of a live stream within seconds of each other, and memory answers before the Cache API's
 * round trip. Stored media never changes under a name, so an entry is never stale; whether the
 * stream may still be served is judged before (stream-serving.ts), as for the Cache API.
 */

/** Bytes one isolate keeps at most (of its 128 MB). */
export const HOT_MEDIA_BYTES = 24 * 1024 * 1024;
/** Files larger than this are left to the Cache API (long segments of high rungs). */
export const HOT_MEDIA_FILE_BYTES = 2 * 1024 * 1024;

export interface HotFile {
  bytes: ArrayBuffer;
  etag: string | null;
}

export class HotMedia {
  readonly #files = new Map<string, HotFile>();
  #bytes = 0;

  constructor(
    readonly maxBytes = HOT_MEDIA_BYTES,
    readonly maxFileBytes = HOT_MEDIA_FILE_BYTES,
  ) {}

  /** The file under `key`, now the most recently used; undefined when not held. */
  get(key: string): HotFile | undefined {
    const file = this.#files.get(key);
    if (!file) return undefined;
    this.#files.delete(key);
    this.#files.set(key, file);
    return file;
  }

  /** Keeps `file` under `key` unless it is larger than a file may be; drops the least recently used to stay within the budget. */
  set(key: string, file: HotFile): void {
    if (file.bytes.byteLength > this.maxFileBytes) return;
    const old = this.#files.get(key);
    if (old) {
      this.#files.delete(key);
      this.#bytes -= old.bytes.byteLength;
    }
    this.#files.set(key, file);
    this.#bytes += file.bytes.byteLength;
    for (const [oldest, held] of this.#files) {
      if (this.#bytes <= this.maxBytes) break;
      this.#files.delete(oldest);
      this.#bytes -= held.bytes.byteLength;
    }
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }
}

/** This isolate's files (one per isolate: the scale simulation's named isolates share it). */
export const hotMedia = new HotMedia();
