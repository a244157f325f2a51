/**
 * How many isolates a stream is served from, as heard lately: each source (an isolate, counting 1,
 * or a shard, counting the isolates behind it) with the time it last said so. Used by the shards
 * (what they report upstream) and the StreamDO (whether the tier engages).
 */

/** How long a source counts after it was last heard. */
export const ISOLATE_SEEN_MS = 10_000;

export class IsolatesSeen {
  readonly #sources = new Map<string, { isolates: number; at: number }>();

  /** `source` serves `isolates` isolates as of `now`. */
  observe(source: string, isolates: number, now: number): void {
    this.#sources.set(source, { isolates, at: now });
  }

  /** The sum over the sources heard in the last ISOLATE_SEEN_MS (older ones are forgotten). */
  total(now: number): number {
    let n = 0;
    for (const [source, s] of this.#sources) {
      if (now - s.at > ISOLATE_SEEN_MS) this.#sources.delete(source);
      else n += s.isolates;
    }
    return n;
  }
}
