/** What a Worker isolate hands a StreamDO at most once a second: sessions seen and QoE sums. */

/** One viewer session's latest media-playlist poll. */
export interface SessionSeen {
  sid: string;
  rendition: string;
  /** When the isolate last saw it, ms since epoch. */
  lastSeen: number;
}

/** Beacon figures summed over the batch. */
export interface QoeDelta {
  beacons: number;
  /** One startup time per session that reported one, with the session (the StreamDO counts each session once, whatever isolates it went through). */
  startups: { sid: string; ms: number }[];
  playedMs: number;
  rebufferCount: number;
  rebufferMs: number;
  /** Switch counts keyed `from>to`. */
  switches: Record<string, number>;
  /** Player errors the beacons reported plus CDN error beacons (analytics rollups count them per minute). */
  errors: number;
}

/** One isolate's flush for one stream. */
export interface ViewerBatch {
  sessions: SessionSeen[];
  qoe: QoeDelta;
}

/** A QoE delta with nothing in it. */
export function emptyQoe(): QoeDelta {
  return { beacons: 0, startups: [], playedMs: 0, rebufferCount: 0, rebufferMs: 0, switches: {}, errors: 0 };
}
