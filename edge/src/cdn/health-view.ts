/** Per-isolate view of CDN health: one CdnHealth call per isolate every few seconds, not one per request. */
import type { Env } from '../env.ts';
import type { Settings } from '../settings.ts';
import { cdnHealthStub } from './cdn-health.ts';

const NONE: ReadonlySet<string> = new Set();

/** Caches the set of down CDNs read from the CdnHealth object, refreshing at most once per `maxAgeMs`. */
export class HealthView {
  #down: ReadonlySet<string> = NONE;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<ReadonlySet<string>> | null = null;

  /** The down CDNs as of at most `cdnHealthCacheSeconds` ago; on a failed read the last known set (logged). */
  async down(env: Env, settings: Settings, now: number): Promise<ReadonlySet<string>> {
    if (settings.cdns.length === 0) return NONE;
    if (now - this.#fetchedAt < settings.cdnHealthCacheSeconds * 1000) return this.#down;
    this.#inflight ??= this.#refresh(env, now).finally(() => (this.#inflight = null));
    return this.#inflight;
  }

  /** Drops what this isolate knows (tests). */
  forget(): void {
    this.#down = NONE;
    this.#fetchedAt = Number.NEGATIVE_INFINITY;
  }

  async #refresh(env: Env, now: number): Promise<ReadonlySet<string>> {
    try {
      const snapshot = await cdnHealthStub(env).snapshot();
      this.#down = new Set(snapshot.down);
    } catch (err) {
      console.error('cdn health read failed; keeping the last known health:', err);
    }
    // Also after a failure, so a broken CdnHealth object costs one call per period, not one per request.
    this.#fetchedAt = now;
    return this.#down;
  }
}

/** This isolate's health view. */
export const healthView = new HealthView();
