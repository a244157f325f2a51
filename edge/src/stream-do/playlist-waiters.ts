/**
 * Blocked playlist requests held by a StreamDO until what they wait for is announced. Each waiter
 * is a check run after every announce; the first announce that makes it true answers it.
 */
export class PlaylistWaiters {
  readonly #waiting = new Set<{ ready: () => boolean; done: (outcome: 'ready' | 'timeout') => void }>();

  /** Resolves `ready` as soon as `ready()` holds after a `wake()`, or `timeout` after `timeoutMs`. */
  wait(ready: () => boolean, timeoutMs: number): Promise<'ready' | 'timeout'> {
    return new Promise((resolve) => {
      const waiter = {
        ready,
        done: (outcome: 'ready' | 'timeout') => {
          clearTimeout(timer);
          this.#waiting.delete(waiter);
          resolve(outcome);
        },
      };
      const timer = setTimeout(() => waiter.done('timeout'), timeoutMs);
      this.#waiting.add(waiter);
    });
  }

  /** Something was announced: answers every waiter whose check now holds. */
  wake(): void {
    for (const waiter of [...this.#waiting]) if (waiter.ready()) waiter.done('ready');
  }

  /** Requests held now. */
  get size(): number {
    return this.#waiting.size;
  }
}
