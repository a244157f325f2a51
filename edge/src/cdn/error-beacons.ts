/** Player error beacons: rate-limited per session and aggregated per isolate before reaching CdnHealth. */
import type { Env } from '../env.ts';
import { cdnHealthStub } from './cdn-health.ts';

/** Beacons one session may send per window; more are refused (a broken player must not flood). */
export const BEACONS_PER_SESSION = 5;
/** The per-session rate window. */
export const BEACON_WINDOW_MS = 10_000;
/** At most one CdnHealth call per isolate per this many ms, carrying every beacon since the last. */
export const FLUSH_INTERVAL_MS = 1000;
const MAX_TRACKED_SESSIONS = 10_000;

/** Counts beacons per CDN and forwards them in batches; keeps per-session rate limits. */
export class ErrorBeacons {
  readonly #sessions = new Map<string, { windowStart: number; count: number }>();
  #pending: Record<string, number> = {};
  #flushScheduled = false;
  #lastFlush = Number.NEGATIVE_INFINITY;

  /** False when `sid` has used up its allowance for the current window. */
  allow(sid: string, now: number): boolean {
    let entry = this.#sessions.get(sid);
    if (!entry || now - entry.windowStart >= BEACON_WINDOW_MS) {
      if (this.#sessions.size >= MAX_TRACKED_SESSIONS) this.#sessions.clear();
      entry = { windowStart: now, count: 0 };
      this.#sessions.set(sid, entry);
    }
    entry.count++;
    return entry.count <= BEACONS_PER_SESSION;
  }

  /** Counts one beacon; returns the flush to run past the response, or null if one is already scheduled. */
  add(env: Env, cdn: string, now: number): Promise<void> | null {
    this.#pending[cdn] = (this.#pending[cdn] ?? 0) + 1;
    if (this.#flushScheduled) return null;
    this.#flushScheduled = true;
    const delay = Math.max(0, this.#lastFlush + FLUSH_INTERVAL_MS - now);
    return new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => this.#flush(env));
  }

  async #flush(env: Env): Promise<void> {
    const counts = this.#pending;
    this.#pending = {};
    this.#flushScheduled = false;
    this.#lastFlush = Date.now();
    await cdnHealthStub(env).reportErrors(counts);
  }
}

/** This isolate's beacon aggregator. */
export const errorBeacons = new ErrorBeacons();
