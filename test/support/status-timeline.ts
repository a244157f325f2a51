import { streamView } from './e2e-helpers.ts';

/**
 * Polls a stream's `status` (GET /v1/streams/:id) every 100 ms and remembers when each status was
 * first seen, so a test can bound how long a transition took from the moment it caused it.
 */
export class StatusTimeline {
  readonly #edge: { edgeUrl: string; adminToken: string };
  readonly #id: string;
  readonly #firstSeen = new Map<string, number>();
  /** Every status change seen, in order. */
  readonly changes: { status: string; at: number }[] = [];
  #state: 'watching' | 'stopped' = 'watching';
  #loop: Promise<void>;

  constructor(edge: { edgeUrl: string; adminToken: string }, id: string) {
    this.#edge = edge;
    this.#id = id;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#state === 'watching') {
      const status = await streamView(this.#edge, this.#id).then(
        (v) => v.status,
        () => undefined,
      );
      const at = Date.now();
      if (status !== undefined && this.changes.at(-1)?.status !== status) {
        this.changes.push({ status, at });
        if (!this.#firstSeen.has(status)) this.#firstSeen.set(status, at);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until `status` has been seen after `since` (ms since epoch) and returns when, or fails after `timeoutMs`. */
  async reached(status: string, since: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.changes.find((c) => c.status === status && c.at >= since);
      if (hit) return hit.at;
      if (Date.now() > deadline) throw new Error(`stream ${this.#id} not ${status} within ${timeoutMs} ms (seen: ${this.describe()})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The changes as `status@+ms` relative to `origin`. */
  describe(origin = this.changes[0]?.at ?? 0): string {
    return this.changes.map((c) => `${c.status}@${c.at - origin >= 0 ? '+' : ''}${c.at - origin}ms`).join(' → ');
  }

  async close(): Promise<void> {
    this.#state = 'stopped';
    await this.#loop;
  }
}
