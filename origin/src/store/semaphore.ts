/** Gives back a permit taken from a Semaphore; calling it more than once is harmless. */
export type Release = () => void;

/** A counting semaphore that bounds how many operations run at once (FIFO waiters). */
export class Semaphore {
  readonly #permits: number;
  #active = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`permits must be a positive integer, got ${permits}`);
    this.#permits = permits;
  }

  /** How many permits are held right now. */
  get active(): number {
    return this.#active;
  }

  /** How many callers are queued for a permit. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves with a release function once a permit is free. */
  async acquire(): Promise<Release> {
    if (this.#active < this.#permits) {
      this.#active += 1;
    } else {
      // The releasing caller hands its permit straight to us, so #active is unchanged.
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#active -= 1;
    };
  }

  /** Runs `task` while holding a permit. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}
