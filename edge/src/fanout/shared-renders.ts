/**
 * A shard's share of the playlists the push does not carry (a DVR window's: too long to send on
 * every part), so a popular DVR stream's playlist reads reach its StreamDO through the tier, not
 * once per isolate. Asks for the same playlist (rendition, window, blocking directive) while one is
 * on its way wait on that one call upstream; a successful answer is reused for `reuseMs`. Answers
 * to a blocking request (`_HLS_msn`/`_HLS_part`) stay right once given (the playlist then holds the
 * part asked for), like the CDN-cacheable answers the Worker gives for the same URL.
 */
import { Coalescer } from '../playback/coalescer.ts';

/** Kept answers past which the expired ones are dropped. */
const PRUNE_ABOVE = 64;

export class SharedRenders<T> {
  readonly #inflight = new Coalescer<T>();
  readonly #recent = new Map<string, { value: T; until: number }>();
  /** Calls made upstream (the rest were shared). */
  upstreamCalls = 0;

  readonly #reuseMs: number;
  readonly #clock: () => number;

  constructor(reuseMs: number, clock: () => number = Date.now) {
    this.#reuseMs = reuseMs;
    this.#clock = clock;
  }

  /** The answer for `key`: a recent one, the one on its way, or a new call of `load`; kept only when `keep` says so. */
  async get(key: string, load: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    const now = this.#clock();
    const recent = this.#recent.get(key);
    if (recent && recent.until > now) return recent.value;
    const { promise, started } = this.#inflight.run(key, () => {
      this.upstreamCalls++;
      return load();
    });
    const value = await promise;
    if (started && keep(value)) this.#remember(key, value, this.#clock() + this.#reuseMs);
    return value;
  }

  #remember(key: string, value: T, until: number): void {
    if (this.#recent.size >= PRUNE_ABOVE) {
      const now = this.#clock();
      for (const [k, v] of this.#recent) if (v.until <= now) this.#recent.delete(k);
    }
    this.#recent.set(key, { value, until });
  }
}
