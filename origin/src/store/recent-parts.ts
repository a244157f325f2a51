/**
 * LL-HLS parts in the origin's memory: the last few seconds of each rendition, served by the
 * origin's media route (the edge pulls them through its Cache API). Parts never go to the bucket:
 * a part matters for a few seconds, and a storage write per part per rendition would cost more
 * than everything else the stream stores (docs/decisions.md, "Where LL-HLS parts live").
 */
import { PART_FILE_PATTERN } from '../../../shared/src/internal-api.ts';

/** How long a part is kept: past every playlist that lists it (about 3 target durations). */
export const PART_KEEP_MS = 15_000;

/** A part asked for before it exists (a preload hint) is held at most this long. */
export const PART_HOLD_MS = 3_000;

/** Parts held by object key (`live/<id>/<rendition>/part-<msn>-<part>-e<epoch>.m4s`). */
export class RecentParts {
  readonly #entries = new Map<string, { bytes: Uint8Array; at: number }>();
  readonly #waiters = new Map<string, Set<(bytes: Uint8Array | undefined) => void>>();
  /** Newest msn per rendition folder: what a request may wait for. */
  readonly #newest = new Map<string, number>();
  readonly #keepMs: number;
  readonly #now: () => number;

  constructor(opts: { keepMs?: number; now?: () => number } = {}) {
    this.#keepMs = opts.keepMs ?? PART_KEEP_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** Holds a part and answers whoever waits for it; forgets parts older than the keep time. */
  put(key: string, bytes: Uint8Array): void {
    const now = this.#now();
    this.#entries.set(key, { bytes, at: now });
    const where = locate(key);
    if (where) this.#newest.set(where.folder, Math.max(this.#newest.get(where.folder) ?? 0, where.msn));
    for (const resolve of this.#waiters.get(key) ?? []) resolve(bytes);
    this.#waiters.delete(key);
    // Map order is insertion order: the oldest are first.
    for (const [k, e] of this.#entries) {
      if (now - e.at <= this.#keepMs) break;
      this.#entries.delete(k);
    }
  }

  get(key: string): Uint8Array | undefined {
    return this.#entries.get(key)?.bytes;
  }

  /**
   * The part, waiting up to `holdMs` when it is not made yet but is due: its segment is the newest
   * one of its rendition or the next (a preload-hinted part is held, not 404). Older parts that are
   * gone answer undefined at once.
   */
  async getOrWait(key: string, holdMs = PART_HOLD_MS): Promise<Uint8Array | undefined> {
    const found = this.get(key);
    if (found) return found;
    const where = locate(key);
    const newest = where ? this.#newest.get(where.folder) : undefined;
    if (!where || newest === undefined || where.msn < newest || where.msn > newest + 1) return undefined;
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(key);
      if (!waiters) this.#waiters.set(key, (waiters = new Set()));
      const done = (bytes: Uint8Array | undefined) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key);
        resolve(bytes);
      };
      const timer = setTimeout(() => done(undefined), holdMs);
      waiters.add(done);
    });
  }

  /** Parts held now. */
  get size(): number {
    return this.#entries.size;
  }
}

function locate(key: string): { folder: string; msn: number } | undefined {
  const slash = key.lastIndexOf('/');
  const match = PART_FILE_PATTERN.exec(key.slice(slash + 1));
  return match ? { folder: key.slice(0, slash), msn: Number(match[1]) } : undefined;
}
