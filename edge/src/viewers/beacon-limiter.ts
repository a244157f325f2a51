/** Beacons a session may send per isolate: one per this interval; more are 429. */
export const BEACON_MIN_INTERVAL_MS = 1000;
/** Past this many tracked sessions, entries older than a minute are dropped. */
const MAX_TRACKED = 50_000;

/** Per-isolate rate limit of QoE beacons by session id. */
export class BeaconLimiter {
  readonly #lastAt = new Map<string, number>();
  readonly #intervalMs: number;

  constructor(intervalMs = BEACON_MIN_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** True when `sid` may send a beacon now (and records it). */
  allow(sid: string, now: number): boolean {
    const last = this.#lastAt.get(sid);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    if (this.#lastAt.size >= MAX_TRACKED) {
      for (const [k, at] of this.#lastAt) if (now - at > 60_000) this.#lastAt.delete(k);
    }
    this.#lastAt.set(sid, now);
    return true;
  }
}
