/** Settings of a transcoder's restart policy. */
export interface RestartPolicySettings {
  /** Restarts allowed in a row before the stream is failed. */
  maxRestarts: number;
  /** Delay before the first restart; doubles with each restart in a row. */
  backoffMs: number;
  /** Running this long without a failure forgives the earlier ones: the count starts again at 0. */
  healthyResetMs: number;
}

/** What to do about a transcoder failure. */
export type RestartDecision = { action: 'restart'; attempt: number; delayMs: number } | { action: 'give_up'; restarts: number };

/**
 * When to restart a failed transcoder and when to give up. Pure: the caller passes `now` (ms).
 * Failures count in a row; a run of `healthyResetMs` since the last (re)start resets the count,
 * so a long stream is not failed by one hiccup an hour.
 */
export class RestartPolicy {
  readonly #settings: RestartPolicySettings;
  #restarts = 0;
  #startedAt: number | undefined;

  constructor(settings: RestartPolicySettings) {
    this.#settings = settings;
  }

  /** Restarts counted in the current run of failures. */
  get restarts(): number {
    return this.#restarts;
  }

  /** A transcoder (first or restarted) started at `now`. */
  started(now: number): void {
    this.#startedAt = now;
  }

  /** The transcoder failed at `now`: restart after `delayMs`, or give up. */
  failed(now: number): RestartDecision {
    if (this.#startedAt !== undefined && now - this.#startedAt >= this.#settings.healthyResetMs) this.#restarts = 0;
    if (this.#restarts >= this.#settings.maxRestarts) return { action: 'give_up', restarts: this.#restarts };
    this.#restarts++;
    return { action: 'restart', attempt: this.#restarts, delayMs: this.#settings.backoffMs * 2 ** (this.#restarts - 1) };
  }
}
