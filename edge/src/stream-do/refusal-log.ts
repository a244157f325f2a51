/**
 * Refused publishes logged to a stream at most once a minute: a wrong-key flood against a live
 * stream leaves one aggregated `publish_refused` event per minute (with how many it stands for),
 * not one per attempt. In memory: an evicted object at worst logs one event early.
 */

/** At most one refusal event per stream per this long. */
export const REFUSAL_EVENT_INTERVAL_MS = 60_000;

/** Decides which refusals are written and how many each written one stands for. */
export class RefusalLog {
  #lastWrittenAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  /** The count to log with this refusal (itself plus those held back since the last event), or null to hold it back. */
  admit(now: number): number | null {
    if (now - this.#lastWrittenAt < REFUSAL_EVENT_INTERVAL_MS) {
      this.#suppressed++;
      return null;
    }
    const count = this.#suppressed + 1;
    this.#suppressed = 0;
    this.#lastWrittenAt = now;
    return count;
  }
}
