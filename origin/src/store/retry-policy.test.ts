import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, backoffDelayMs, retry } from './retry-policy.ts';

describe('backoffDelayMs', () => {
  it('doubles from the base with half of each step jittered', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 0.999999))).toEqual([100, 200, 400, 800]);
    expect(backoffDelayMs(1, 0.5)).toBe(75);
  });

  it('never exceeds BACKOFF_MAX_MS', () => {
    expect(BACKOFF_BASE_MS).toBe(100);
    expect(backoffDelayMs(30, 0.999999)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelayMs(30, 0)).toBe(BACKOFF_MAX_MS / 2);
  });
});

describe('retry', () => {
  const transient = Object.assign(new Error('503'), { retryable: true });
  const fatal = Object.assign(new Error('403'), { retryable: false });
  const isRetryable = (error: unknown): boolean => (error as { retryable?: boolean }).retryable === true;

  it('returns the value and the attempt count after transient failures', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const outcome = await retry(
      async (attempt) => {
        calls += 1;
        if (attempt < 3) throw transient;
        return 'stored';
      },
      { isRetryable, sleep: async (ms) => void sleeps.push(ms), random: () => 0 },
    );

    expect(outcome).toEqual({ ok: true, value: 'stored', attempts: 3 });
    expect(calls).toBe(3);
    expect(sleeps).toEqual([50, 100]);
  });

  it('stops at maxAttempts and hands back the last error', async () => {
    const retries: number[] = [];
    const outcome = await retry(
      async () => {
        throw transient;
      },
      { isRetryable, maxAttempts: 3, sleep: async () => {}, onRetry: ({ attempt }) => retries.push(attempt) },
    );

    expect(outcome).toEqual({ ok: false, error: transient, attempts: 3, aborted: false });
    expect(retries).toEqual([1, 2]);
  });

  it('does not retry a non-retryable error', async () => {
    const outcome = await retry(
      async () => {
        throw fatal;
      },
      { isRetryable, sleep: async () => {} },
    );

    expect(outcome).toEqual({ ok: false, error: fatal, attempts: 1, aborted: false });
  });

  it('stops waiting when the signal aborts during backoff', async () => {
    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw transient;
      },
      { isRetryable, signal: controller.signal },
    );
    controller.abort(new Error('closing'));

    expect(await pending).toMatchObject({ ok: false, attempts: 1, aborted: true });
  });
});
