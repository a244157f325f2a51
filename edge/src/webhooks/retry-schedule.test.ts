import { describe, expect, it } from 'vitest';
import { nextAttemptAt, retryAfterMs, retryDelayMs } from './retry-schedule.ts';
import { handoverRetryMs } from './webhook-outbox.ts';

describe('webhook retry schedule', () => {
  it('waits base × 6^(n−1), at most an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => retryDelayMs(n, 5))).toEqual([5_000, 30_000, 180_000, 1_080_000, 3_600_000, 3_600_000, 3_600_000]);
    expect([1, 2, 3].map((n) => retryDelayMs(n, 1))).toEqual([1_000, 6_000, 36_000]);
  });

  it('makes 28 attempts over a day with the default base, then gives up', () => {
    const attempts = [0];
    for (;;) {
      const next = nextAttemptAt(attempts.length, 0, attempts.at(-1)!, 5);
      if (next === null) break;
      attempts.push(next);
    }
    expect(attempts.slice(0, 7)).toEqual([0, 5_000, 35_000, 215_000, 1_295_000, 4_895_000, 8_495_000]);
    expect(attempts).toHaveLength(28);
    expect(attempts.at(-1)).toBe(84_095_000);
    // The next one would be at 87,695,000 ms: past 24 h after the first.
    expect(nextAttemptAt(28, 0, 84_095_000, 5)).toBeNull();
  });

  it('lengthens a wait to the receiver’s Retry-After, never past the cap', () => {
    expect(nextAttemptAt(1, 0, 0, 5, 120_000)).toBe(120_000);
    expect(nextAttemptAt(1, 0, 0, 5, 1_000)).toBe(5_000);
    expect(nextAttemptAt(1, 0, 0, 5, 36_000_000)).toBe(3_600_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2015, 9, 21, 7, 27, 30);
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBe(0);
  });

  it('retries a failed hand-over to the hub after 1 s, 2 s, 4 s … at most a minute', () => {
    expect([1, 2, 3, 4, 6, 7, 30].map(handoverRetryMs)).toEqual([1_000, 2_000, 4_000, 8_000, 32_000, 60_000, 60_000]);
  });
});
