/**
 * Startup times as a log-scale histogram: buckets of ratio 2^(1/8), so histograms of any minutes
 * and streams merge exactly and a median read from them is within ±4.4% of the true one.
 */

/** Bucket index → count; JSON-serialisable (keys are decimal strings). */
export type StartupHistogram = Record<string, number>;

/** Buckets per doubling. */
const BUCKETS_PER_OCTAVE = 8;

/** The bucket of a startup time: 0 holds 0 ms, b ≥ 1 holds [2^((b-1)/8), 2^(b/8)) ms. Pure. */
export function startupBucket(ms: number): number {
  return ms < 1 ? 0 : Math.floor(BUCKETS_PER_OCTAVE * Math.log2(ms)) + 1;
}

/** The value a bucket stands for: the geometric middle of its bounds, rounded to a ms. Pure. */
export function bucketValue(bucket: number): number {
  return bucket === 0 ? 0 : Math.round(2 ** ((bucket - 0.5) / BUCKETS_PER_OCTAVE));
}

/** `h` with one more sample (mutates and returns `h`). */
export function addStartup(h: StartupHistogram, ms: number): StartupHistogram {
  const b = String(startupBucket(ms));
  h[b] = (h[b] ?? 0) + 1;
  return h;
}

/** `into` plus every count of `from` (mutates and returns `into`). */
export function mergeStartups(into: StartupHistogram, from: StartupHistogram): StartupHistogram {
  for (const [b, n] of Object.entries(from)) into[b] = (into[b] ?? 0) + n;
  return into;
}

/** Samples in a histogram. Pure. */
export function startupCount(h: StartupHistogram): number {
  return Object.values(h).reduce((a, b) => a + b, 0);
}

/** The lower median's bucket value, or null without samples. Pure. */
export function startupMedian(h: StartupHistogram): number | null {
  const buckets = Object.entries(h)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return null;
  let rank = Math.floor((total - 1) / 2);
  for (const [b, n] of buckets) {
    if (rank < n) return bucketValue(b);
    rank -= n;
  }
  return null; // unreachable: rank < total
}
