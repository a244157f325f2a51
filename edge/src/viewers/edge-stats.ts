/**
 * Per-isolate counters behind `GET /v1/edge/stats`: how many viewer requests this isolate served
 * and how many StreamDO calls they cost (invariant 4: far below one per request).
 */
export const edgeStats = {
  /** Random id of this isolate, so a reader can tell isolates apart. */
  isolate: crypto.randomUUID(),
  startedAt: Date.now(),
  /** Playlist requests (master and media). */
  playlistRequests: 0,
  /** Beacon posts accepted. */
  beacons: 0,
  /** StreamDO calls made on behalf of viewers: playlist renders plus viewer flushes. */
  doCalls: 0,
};
