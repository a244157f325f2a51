import { describe, expect, it } from 'vitest';
import { RestartPolicy } from './restart-policy.ts';

describe('RestartPolicy', () => {
  it('restarts with doubling backoff, then gives up after maxRestarts failures in a row', () => {
    const p = new RestartPolicy({ maxRestarts: 3, backoffMs: 500, healthyResetMs: 60_000 });
    p.started(0);
    expect(p.failed(1_000)).toEqual({ action: 'restart', attempt: 1, delayMs: 500 });
    p.started(1_500);
    expect(p.failed(2_000)).toEqual({ action: 'restart', attempt: 2, delayMs: 1_000 });
    p.started(3_000);
    expect(p.failed(4_000)).toEqual({ action: 'restart', attempt: 3, delayMs: 2_000 });
    p.started(6_000);
    expect(p.failed(7_000)).toEqual({ action: 'give_up', restarts: 3 });
    expect(p.restarts).toBe(3);
  });

  it('gives up at the first failure when no restart is allowed', () => {
    const p = new RestartPolicy({ maxRestarts: 0, backoffMs: 500, healthyResetMs: 60_000 });
    p.started(0);
    expect(p.failed(10)).toEqual({ action: 'give_up', restarts: 0 });
  });

  it('forgives earlier failures after running healthy for healthyResetMs', () => {
    const p = new RestartPolicy({ maxRestarts: 1, backoffMs: 200, healthyResetMs: 30_000 });
    p.started(0);
    expect(p.failed(5_000)).toEqual({ action: 'restart', attempt: 1, delayMs: 200 });
    p.started(5_200);
    // 1 ms short of healthyResetMs after the restart: still the same run of failures.
    expect(p.failed(35_199)).toEqual({ action: 'give_up', restarts: 1 });
  });

  it('starts counting again from the first delay once reset', () => {
    const p = new RestartPolicy({ maxRestarts: 1, backoffMs: 200, healthyResetMs: 30_000 });
    p.started(0);
    expect(p.failed(5_000)).toEqual({ action: 'restart', attempt: 1, delayMs: 200 });
    p.started(5_200);
    expect(p.failed(35_200)).toEqual({ action: 'restart', attempt: 1, delayMs: 200 });
    expect(p.restarts).toBe(1);
  });
});
