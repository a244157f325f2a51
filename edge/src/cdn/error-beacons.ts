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
/** Distinct sessions a flush carries per CDN: past the threshold more add nothing. */
export const MAX_SESSIONS_PER_FLUSH = 64;

/** Collects the distinct (signed) sessions reporting each CDN and forwards them in batches; keeps per-session rate limits. */
export class ErrorBeacons {
  readonly #sessions = new Map<string, { windowStart: number; count: number }>();
  #pending = new Map<string, Set<string>>();
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

  /** Counts one session's report on `cdn`; returns the flush to run past the response, or null if one is already scheduled. */
  add(env: Env, cdn: string, sid: string, now: number): Promise<void> | null {
    let sessions = this.#pending.get(cdn);
    if (!sessions) this.#pending.set(cdn, (sessions = new Set()));
    if (sessions.size < MAX_SESSIONS_PER_FLUSH) sessions.add(sid);
    if (this.#flushScheduled) return null;
    this.#flushScheduled = true;
    const delay = Math.max(0, this.#lastFlush + FLUSH_INTERVAL_MS - now);
    return new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => this.#flush(env));
  }

  async #flush(env: Env): Promise<void> {
    const reports = Object.fromEntries([...this.#pending].map(([cdn, sids]) => [cdn, [...sids]]));
    this.#pending = new Map();
    this.#flushScheduled = false;
    this.#lastFlush = Date.now();
    await cdnHealthStub(env).reportErrors(reports);
  }
}

/** This isolate's beacon aggregator. */
export const errorBeacons = new ErrorBeacons();
