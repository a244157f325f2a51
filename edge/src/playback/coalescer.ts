/**
 * Collapses concurrent calls for the same key into one: the first caller runs `load`, the others
 * await its promise. Used per isolate so a burst of viewers costs one Durable Object call.
 */
export class Coalescer<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  /** Runs `load` unless a call for `key` is already in flight; `started` says whether this call ran it. */
  run(key: string, load: () => Promise<T>): { promise: Promise<T>; started: boolean } {
    const pending = this.#inflight.get(key);
    if (pending) return { promise: pending, started: false };
    const promise = load().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return { promise, started: true };
  }

  /** Calls in flight (for tests and metrics). */
  get size(): number {
    return this.#inflight.size;
  }
}
