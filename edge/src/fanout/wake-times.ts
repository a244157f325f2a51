/**
 * How long after its edge shard heard a state an isolate's held LL-HLS reload was woken by that
 * state (ms): issue 14 asks for a wake within 50 ms of the shard learning of the part. Beside it,
 * how long after the shard heard it the isolate's copy had the state (the delivery): a held reload
 * is woken from the request that reads the subscription, and workerd runs that wake in the held
 * request's own context, queued behind whatever its thread has to do first. Kept only once the
 * scale simulation asked (`/__sim/stats`, development only), for every simulated isolate of this
 * workerd alike; up to MAX_SAMPLES of each between two reads.
 */
const MAX_SAMPLES = 50_000;
const wakes: number[] = [];
const deliveries: number[] = [];
/** What became of blocking reloads a pushed copy took, by outcome. */
const held = new Map<HeldOutcome, number>();
let keeping = false;

/**
 * A blocking reload at a pushed copy: answered at once (the part was there), woken by a state an
 * edge shard stamped or by one without a stamp (straight from the StreamDO), timed out, or handed
 * back because the subscription stopped.
 */
export type HeldOutcome = 'at once' | 'woken via shard' | 'woken direct' | 'timeout' | 'stopped';

/** A blocking reload ended this way. */
export function noteHeld(outcome: HeldOutcome): void {
  if (keeping) held.set(outcome, (held.get(outcome) ?? 0) + 1);
}

/** A held reload woke `ms` after its edge shard heard the state that answered it. */
export function noteWake(ms: number): void {
  if (keeping && wakes.length < MAX_SAMPLES) wakes.push(ms);
}

/** An isolate's copy took a state `ms` after its edge shard heard it. */
export function noteDelivery(ms: number): void {
  if (keeping && deliveries.length < MAX_SAMPLES) deliveries.push(ms);
}

/** The samples since the last read (and keep sampling from now on). */
export function takeWakes(): { wakes: number[]; deliveries: number[]; held: Partial<Record<HeldOutcome, number>> } {
  keeping = true;
  const outcomes = Object.fromEntries(held);
  held.clear();
  return { wakes: wakes.splice(0), deliveries: deliveries.splice(0), held: outcomes };
}
