/**
 * How long after its edge shard heard a state an isolate's held LL-HLS reload was woken by that
 * state (ms): issue 14 asks for a wake within 50 ms of the shard learning of the part. Kept only
 * once the scale simulation asked (`/__sim/stats`, development only), for every simulated isolate
 * of this workerd alike; up to MAX_SAMPLES between two reads.
 */
const MAX_SAMPLES = 50_000;
const samples: number[] = [];
let keeping = false;

/** A held reload woke `ms` after its edge shard heard the state that answered it. */
export function noteWake(ms: number): void {
  if (keeping && samples.length < MAX_SAMPLES) samples.push(ms);
}

/** The samples since the last read (and keep sampling from now on). */
export function takeWakes(): number[] {
  keeping = true;
  return samples.splice(0);
}
