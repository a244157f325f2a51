/**
 * When a stream's fan-out tier is engaged (issue 14): the StreamDO counts the isolates its stream is
 * served from, heard directly (viewer flushes and subscriptions name their isolate) or through
 * relay shards (each reports the isolates behind it), over the last ISOLATE_SEEN_MS. At
 * `engageIsolates` the tier engages; it disengages once the count has stayed under a quarter of that
 * for `disengageMs` (hysteresis: a stream near the threshold does not flap). Small streams never
 * engage and pay nothing. Memory only: an object that restarts starts disengaged and engages again
 * within seconds if the audience is still there.
 */
import { IsolatesSeen } from '../fanout/isolates-seen.ts';

export class FanoutPolicy {
  readonly #engageAt: number;
  readonly #disengageMs: number;
  readonly #sources = new IsolatesSeen();
  #engaged = false;
  /** Since when the count has been under the disengage level (engaged only). */
  #lowSince: number | null = null;

  constructor(opts: { engageIsolates: number; disengageMs: number }) {
    this.#engageAt = opts.engageIsolates;
    this.#disengageMs = opts.disengageMs;
  }

  get engaged(): boolean {
    return this.#engaged;
  }

  /** `source` (an isolate, or a relay shard) serves `isolates` isolates as of `now`; returns true when the tier engaged or disengaged. */
  observe(source: string, isolates: number, now: number): boolean {
    this.#sources.observe(source, isolates, now);
    return this.evaluate(now);
  }

  /** Isolates heard from lately (isolates-seen.ts). */
  isolates(now: number): number {
    return this.#sources.total(now);
  }

  /** Re-judges at `now`; returns true when the tier engaged or disengaged. */
  evaluate(now: number): boolean {
    const isolates = this.isolates(now);
    if (!this.#engaged) {
      if (isolates < this.#engageAt) return false;
      this.#engaged = true;
      this.#lowSince = null;
      return true;
    }
    if (isolates >= this.#engageAt / 4) {
      this.#lowSince = null;
      return false;
    }
    this.#lowSince ??= now;
    if (now - this.#lowSince < this.#disengageMs) return false;
    this.#engaged = false;
    this.#lowSince = null;
    return true;
  }
}
