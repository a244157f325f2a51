/** Hysteresis of one CDN's health: down after N failures in a row, up after M successes. Pure. */

/** One CDN's health as the CdnHealth object stores it. */
export interface CdnHealthState {
  up: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

/** Thresholds of the hysteresis. */
export interface HealthPolicy {
  downAfterFailures: number;
  upAfterSuccesses: number;
}

/** A CDN nobody has probed yet is presumed up, so a fresh deploy serves through every CDN. */
export const INITIAL_HEALTH: CdnHealthState = { up: true, consecutiveFailures: 0, consecutiveSuccesses: 0 };

/** The state after one observation (a probe, or a burst of player errors as one failure) and whether `up` flipped. */
export function observe(state: CdnHealthState, ok: boolean, policy: HealthPolicy): { state: CdnHealthState; changed: boolean } {
  const consecutiveFailures = ok ? 0 : state.consecutiveFailures + 1;
  const consecutiveSuccesses = ok ? state.consecutiveSuccesses + 1 : 0;
  let up = state.up;
  if (up && consecutiveFailures >= policy.downAfterFailures) up = false;
  else if (!up && consecutiveSuccesses >= policy.upAfterSuccesses) up = true;
  return { state: { up, consecutiveFailures, consecutiveSuccesses }, changed: up !== state.up };
}
