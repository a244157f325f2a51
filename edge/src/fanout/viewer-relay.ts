/**
 * A shard's viewer batches, merged and passed on once a second: an edge shard merges the batches of
 * its location's isolates for its relay shard, a relay shard those of its edge shards for the
 * StreamDO. Sessions keep their latest poll (the StreamDO counts each session id once, whatever
 * shards it came through, so counts stay exact when a viewer's requests change location); beacon
 * figures add up. An edge shard also thins sessions: one already passed on within `refreshMs` on
 * the same rendition is not sent again, so rows written upstream follow viewers / refreshMs, not
 * polls.
 */
import { emptyQoe, type QoeDelta, type SessionSeen, type ViewerBatch } from '../viewers/viewer-batch.ts';
import { IsolatesSeen } from './isolates-seen.ts';

/** Sends on what was merged: resolves when the receiver answered. */
export type SendViewers = (batch: ViewerBatch, isolates: number) => Promise<void>;

/** Startup times one merged batch carries at most (the StreamDO keeps a bounded sample anyway). */
const MAX_STARTUPS = 1000;

/** Adds `from` into `into` (beacon sums, switch counts, startups up to MAX_STARTUPS). */
export function mergeQoe(into: QoeDelta, from: QoeDelta): void {
  into.beacons += from.beacons;
  into.playedMs += from.playedMs;
  into.rebufferCount += from.rebufferCount;
  into.rebufferMs += from.rebufferMs;
  into.errors += from.errors ?? 0;
  for (const [k, n] of Object.entries(from.switches)) into.switches[k] = (into.switches[k] ?? 0) + n;
  for (const s of from.startups) if (into.startups.length < MAX_STARTUPS) into.startups.push(s);
}

export class ViewerRelay {
  readonly #send: SendViewers;
  readonly #intervalMs: number;
  readonly #refreshMs: number;
  /** Whether to send again a second later even with nothing new (a relay keeps reporting while it counts viewers). */
  readonly #keepSending: () => boolean;
  #sessions = new Map<string, SessionSeen>();
  #qoe = emptyQoe();
  /** Isolates served through each source (1 for an isolate; an edge shard reports its own count). */
  readonly #sources = new IsolatesSeen();
  /** When each session was last passed on, and on which rendition (thinning; edge shards only). */
  readonly #passedOn = new Map<string, { at: number; rendition: string }>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Batches sent on, for tests and the simulation. */
  sent = 0;

  constructor(send: SendViewers, opts: { intervalMs?: number; refreshMs?: number; keepSending?: () => boolean } = {}) {
    this.#send = send;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#refreshMs = opts.refreshMs ?? 0;
    this.#keepSending = opts.keepSending ?? (() => false);
  }

  /** A batch from `source`, which serves `isolates` isolates; it goes on with the next send (at most one a second). */
  add(source: string, isolates: number, batch: ViewerBatch, now: number): void {
    this.#sources.observe(source, isolates, now);
    for (const s of batch.sessions) {
      const known = this.#sessions.get(s.sid);
      if (!known || s.lastSeen >= known.lastSeen) this.#sessions.set(s.sid, s);
    }
    mergeQoe(this.#qoe, batch.qoe);
    this.#timer ??= setTimeout(() => void this.#flush(), this.#intervalMs);
  }

  /** Isolates served through this shard: the sum over the sources heard lately. */
  isolates(now: number): number {
    return this.#sources.total(now);
  }

  async #flush(): Promise<void> {
    this.#timer = null;
    const now = Date.now();
    const sessions: SessionSeen[] = [];
    for (const s of this.#sessions.values()) {
      const last = this.#passedOn.get(s.sid);
      if (this.#refreshMs > 0 && last && last.rendition === s.rendition && s.lastSeen - last.at < this.#refreshMs) continue;
      sessions.push(s);
      if (this.#refreshMs > 0) this.#passedOn.set(s.sid, { at: s.lastSeen, rendition: s.rendition });
    }
    if (this.#refreshMs > 0) for (const [sid, p] of this.#passedOn) if (now - p.at > 10 * this.#refreshMs) this.#passedOn.delete(sid);
    const batch: ViewerBatch = { sessions, qoe: this.#qoe };
    this.#sessions = new Map();
    this.#qoe = emptyQoe();
    this.sent++;
    try {
      await this.#send(batch, this.isolates(now));
    } catch (err) {
      console.warn('fan-out: viewer batch not passed on:', err);
    }
    if (this.#keepSending()) this.#timer ??= setTimeout(() => void this.#flush(), this.#intervalMs);
  }
}
