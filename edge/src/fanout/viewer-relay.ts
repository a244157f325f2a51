/**
 * A shard's viewer batches, merged and passed on once a second: an edge shard merges the batches of
 * its location's isolates for its relay shard, a relay shard the beacon sums and isolate counts of
 * its edge shards for the StreamDO (a relay counts the sessions themselves as they come,
 * partition-counter.ts). Sessions keep their latest poll (the StreamDO counts each session id once,
 * whatever shards it came through, so counts stay exact when a viewer's requests change location);
 * beacon figures add up. An edge shard also thins sessions: one already passed on within
 * `refreshMs` on the same rendition is not sent again, so rows written upstream follow viewers /
 * refreshMs, not polls.
 *
 * Sessions stay in columns from the isolate's batch to the relay's (`PackedViewerBatch`): a poll
 * updates the session's one entry in place, and a flush walks only the sessions polled since the
 * last one.
 */
import { forEachSession, PackedSessionsBuilder, type PackedViewerBatch } from '../viewers/packed-batch.ts';
import { emptyQoe, type QoeDelta } from '../viewers/viewer-batch.ts';
import { IsolatesSeen } from './isolates-seen.ts';

/** Sends on what was merged: resolves when the receiver answered. */
export type SendViewers = (batch: PackedViewerBatch, isolates: number) => Promise<void>;

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

/** A session this relay heard: its latest poll, and what it last passed on of it (thinning). */
interface Heard {
  sid: string;
  rendition: string;
  lastSeen: number;
  /** Polled since the last flush (it is in `#polled`). */
  polled: boolean;
  passedAt: number;
  passedRendition: string;
}

export class ViewerRelay {
  readonly #send: SendViewers;
  readonly #intervalMs: number;
  readonly #refreshMs: number;
  /** A session not polled for this long is forgotten (its next poll is passed on as a new one's). */
  readonly #forgetMs: number;
  /** Whether to send again a second later even with nothing new (a relay keeps reporting while it counts viewers). */
  readonly #keepSending: () => boolean;
  /** The sessions heard within `forgetMs`. */
  readonly #heard = new Map<string, Heard>();
  /** Those polled since the last flush, in the order they were first polled in it. */
  #polled: Heard[] = [];
  #qoe = emptyQoe();
  /** Isolates served through each source (1 for an isolate; an edge shard reports its own count). */
  readonly #sources = new IsolatesSeen();
  #forgotAt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Batches sent on, for tests and the simulation. */
  sent = 0;

  constructor(send: SendViewers, opts: { intervalMs?: number; refreshMs?: number; keepSending?: () => boolean } = {}) {
    this.#send = send;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#refreshMs = opts.refreshMs ?? 0;
    this.#forgetMs = 10 * this.#refreshMs;
    this.#keepSending = opts.keepSending ?? (() => false);
  }

  /** A batch from `source`, which serves `isolates` isolates; it goes on with the next send (at most one a second). */
  add(source: string, isolates: number, batch: PackedViewerBatch, now: number): void {
    this.#sources.observe(source, isolates, now);
    forEachSession(batch.sessions, (sid, rendition, lastSeen) => {
      const heard = this.#heard.get(sid);
      if (!heard) {
        const fresh: Heard = { sid, rendition, lastSeen, polled: true, passedAt: Number.NEGATIVE_INFINITY, passedRendition: '' };
        this.#heard.set(sid, fresh);
        this.#polled.push(fresh);
        return;
      }
      if (lastSeen < heard.lastSeen) return; // an older poll arriving late changes nothing
      heard.rendition = rendition;
      heard.lastSeen = lastSeen;
      if (!heard.polled) {
        heard.polled = true;
        this.#polled.push(heard);
      }
    });
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
    const sessions = new PackedSessionsBuilder();
    for (const heard of this.#polled) {
      heard.polled = false;
      if (heard.passedRendition === heard.rendition && heard.lastSeen - heard.passedAt < this.#refreshMs) continue;
      sessions.add(heard.sid, heard.rendition, heard.lastSeen);
      heard.passedAt = heard.lastSeen;
      heard.passedRendition = heard.rendition;
    }
    this.#polled = [];
    // Forgetting walks every session heard: once per forget horizon, not every flush.
    if (now - this.#forgotAt >= this.#forgetMs) {
      for (const [sid, heard] of this.#heard) if (now - heard.lastSeen >= this.#forgetMs) this.#heard.delete(sid);
      this.#forgotAt = now;
    }
    const batch: PackedViewerBatch = { sessions: sessions.build(), qoe: this.#qoe };
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
