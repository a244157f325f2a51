/**
 * Per-isolate counters behind `GET /v1/edge/stats`: how many viewer requests this isolate served
 * and how many StreamDO calls they cost (invariant 4: far below one per request).
 */
export const edgeStats = {
  /** Playlist requests (master and media). */
  playlistRequests: 0,
  /** Beacon posts accepted. */
  beacons: 0,
  /** StreamDO calls made on behalf of viewers: playlist renders and subscriptions plus viewer flushes. */
  doCalls: 0,
  /** Fan-out shard calls made instead, once a stream's tier is engaged (subscriptions, viewer flushes). */
  shardCalls: 0,
};

let isolate: { id: string; startedAt: number } | null = null;

/** A random id of this isolate and when it first served, so readers can tell isolates apart. */
export function isolateIdentity(): { id: string; startedAt: number } {
  // Made on first use: workerd forbids random values and clocks at global scope.
  isolate ??= { id: crypto.randomUUID(), startedAt: Date.now() };
  return isolate;
}
