import type { Beacon } from '../../../shared/src/viewers/beacon.ts';
import { emptyQoe, type QoeDelta, type SessionSeen, type ViewerBatch } from './viewer-batch.ts';

/** An isolate flushes each stream's batch to its StreamDO at most this often. */
export const VIEWER_FLUSH_INTERVAL_MS = 1000;

/** Startup times one batch carries at most. */
const MAX_STARTUPS_PER_BATCH = 1000;
/** Sessions remembered as having reported their startup. */
const MAX_STARTUP_SESSIONS = 50_000;

interface Pending {
  sessions: Map<string, SessionSeen>;
  qoe: QoeDelta;
  lastFlushAt: number;
}

/**
 * Per-isolate batching of viewer sessions and beacons, keyed by stream. Recording returns the
 * stream's batch when the call crosses the flush interval (the caller sends it with
 * `ctx.waitUntil`), so a StreamDO hears from each isolate at most once a second, whatever the
 * number of viewers. Plain in-memory state: an isolate that dies loses at most one second.
 */
export class ViewerAggregator {
  readonly #streams = new Map<string, Pending>();
  /** Sessions whose startup time this isolate already took (bounded; forgetting only lets one more through). */
  readonly #startupSeen = new Set<string>();
  readonly #intervalMs: number;

  constructor(intervalMs = VIEWER_FLUSH_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /** A media-playlist poll by session `sid` on `rendition`; returns a batch to flush, or null. */
  recordPoll(streamId: string, sid: string, rendition: string, now: number): ViewerBatch | null {
    this.notePoll(streamId, sid, rendition, now);
    return this.takeDue(streamId, now);
  }

  /**
   * A poll of a burst: recorded only; `takeDue` after the burst returns the batch that carries it
   * (the scale simulation's round, where one isolate's polls of a round arrive together; a real
   * isolate's come one by one, and taking the batch at the first poll of a burst would hold the
   * rest of it back until the next burst).
   */
  notePoll(streamId: string, sid: string, rendition: string, now: number): void {
    this.#pending(streamId).sessions.set(sid, { sid, rendition, lastSeen: now });
  }

  /** The stream's batch if its last flush was the interval ago or more, else null. */
  takeDue(streamId: string, now: number): ViewerBatch | null {
    return this.#take(streamId, this.#pending(streamId), now);
  }

  /** A validated QoE beacon; returns a batch to flush, or null. */
  recordBeacon(streamId: string, beacon: Beacon, now: number): ViewerBatch | null {
    const p = this.#pending(streamId);
    const q = p.qoe;
    q.beacons++;
    // A session starts once: a repeated startup time from it would let one client move the median.
    // (Per isolate here; the StreamDO keeps the sessions that reported one, across isolates.)
    if (beacon.startupMs !== undefined && !this.#startupSeen.has(beacon.sid) && q.startups.length < MAX_STARTUPS_PER_BATCH) {
      if (this.#startupSeen.size >= MAX_STARTUP_SESSIONS) this.#startupSeen.clear();
      this.#startupSeen.add(beacon.sid);
      q.startups.push({ sid: beacon.sid, ms: beacon.startupMs });
    }
    q.playedMs += beacon.playedMs;
    q.rebufferCount += beacon.rebufferCount;
    q.rebufferMs += beacon.rebufferMs;
    q.errors += beacon.errors;
    for (const s of beacon.switches) {
      const key = `${s.from}>${s.to}`;
      q.switches[key] = (q.switches[key] ?? 0) + 1;
    }
    return this.#take(streamId, p, now);
  }

  /** A CDN error beacon a viewer of the stream sent (counted in the stream's errors); returns a batch to flush, or null. */
  recordError(streamId: string, now: number): ViewerBatch | null {
    const p = this.#pending(streamId);
    p.qoe.errors++;
    return this.#take(streamId, p, now);
  }

  /** Takes every stream's pending batch regardless of the interval (tests, shutdown). */
  drain(): Map<string, ViewerBatch> {
    const out = new Map<string, ViewerBatch>();
    for (const [id, p] of this.#streams) {
      if (p.sessions.size > 0 || p.qoe.beacons > 0 || p.qoe.errors > 0) out.set(id, { sessions: [...p.sessions.values()], qoe: p.qoe });
    }
    this.#streams.clear();
    return out;
  }

  /** Streams with something pending. */
  get size(): number {
    return this.#streams.size;
  }

  #pending(streamId: string): Pending {
    let p = this.#streams.get(streamId);
    if (!p) {
      // A first flush goes out at once: a new stream's first viewer shows up without waiting.
      p = { sessions: new Map(), qoe: emptyQoe(), lastFlushAt: Number.NEGATIVE_INFINITY };
      this.#streams.set(streamId, p);
    }
    return p;
  }

  #take(streamId: string, p: Pending, now: number): ViewerBatch | null {
    if (now - p.lastFlushAt < this.#intervalMs) return null;
    const batch: ViewerBatch = { sessions: [...p.sessions.values()], qoe: p.qoe };
    // Keep the entry (with its flush time) so the next second's polls batch again.
    this.#streams.set(streamId, { sessions: new Map(), qoe: emptyQoe(), lastFlushAt: now });
    return batch;
  }
}
