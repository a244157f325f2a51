import { describe, expect, it } from 'vitest';
import { INITIAL_HEALTH, observe, type CdnHealthState } from './cdn-health-state.ts';

const POLICY = { downAfterFailures: 2, upAfterSuccesses: 3 };

function run(observations: boolean[]): { up: boolean[]; changed: boolean[] } {
  let state: CdnHealthState = INITIAL_HEALTH;
  const up: boolean[] = [];
  const changed: boolean[] = [];
  for (const ok of observations) {
    const next = observe(state, ok, POLICY);
    state = next.state;
    up.push(state.up);
    changed.push(next.changed);
  }
  return { up, changed };
}

describe('CDN health hysteresis', () => {
  it('goes down only after N consecutive failures and up only after M consecutive successes', () => {
    expect(run([false, true, false, false, true, true, false, true, true, true])).toEqual({
      up: [true, true, true, false, false, false, false, false, false, true],
      changed: [false, false, false, true, false, false, false, false, false, true],
    });
  });

  it('counts from the initial up state', () => {
    expect(observe(INITIAL_HEALTH, true, POLICY)).toEqual({ state: { up: true, consecutiveFailures: 0, consecutiveSuccesses: 1 }, changed: false });
    expect(observe(INITIAL_HEALTH, false, { downAfterFailures: 1, upAfterSuccesses: 1 })).toEqual({
      state: { up: false, consecutiveFailures: 1, consecutiveSuccesses: 0 },
      changed: true,
    });
  });
});
