/** A stream's audience: the viewer window, recording isolates' viewer batches, milestones and switches. */
import type { QoeSummary, ViewerCounts } from '../../../shared/src/feed/feed-messages.ts';
import type { ViewerBatch } from '../viewers/viewer-batch.ts';
import type { AudienceStore } from './audience-store.ts';
import type { StreamRow } from './stream-schema.ts';
import type { WriteContext } from './stream-writer.ts';

/** Peaks worth an event in the log and the feed. */
const VIEWER_MILESTONES = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
/** Sessions unseen this long are dropped from the sessions table (they stay counted in `total`). */
const SESSION_FORGET_MS = 10 * 60_000;
/** Viewers count as current while seen within this many target durations. */
const VIEWER_WINDOW_TARGETS = 3;
/** Forgetting sessions is a table scan; once a minute is plenty. */
const SESSION_PRUNE_INTERVAL_MS = 60_000;

/** Startup times one isolate batch may add (the store keeps a bounded sample anyway). */
const MAX_STARTUP_PER_BATCH = 1000;

/** The rendition names of the stream's ladder. Pure. */
export function ladderRenditions(row: StreamRow): Set<string> {
  const ladder = JSON.parse(row.ladder) as { rungs?: { name?: unknown }[] };
  return new Set((ladder.rungs ?? []).map((r) => r.name).filter((n): n is string => typeof n === 'string'));
}

/** Viewer counts and QoE, as the management API and the feed snapshot show them. */
export interface AudienceSummary {
  viewers: ViewerCounts;
  qoe: QoeSummary;
}

/** How long a session counts as a current viewer after its last poll: 3 target durations. Pure. */
export function viewerWindowMs(targetDuration: number): number {
  return VIEWER_WINDOW_TARGETS * targetDuration * 1000;
}

/** The milestones a peak crossed going from `before` to `current`, lowest first. Pure. */
export function crossedMilestones(before: number, current: number): number[] {
  return VIEWER_MILESTONES.filter((m) => before < m && current >= m);
}

/** How far back a session may have been seen and still be kept: the larger of 10 minutes and two viewer windows. Pure. */
export function sessionForgetBefore(now: number, targetDuration: number): number {
  return now - Math.max(SESSION_FORGET_MS, 2 * viewerWindowMs(targetDuration));
}

/** The audience tables it works on: an AudienceStore, or an object literal in unit tests. */
export type AudienceTables = Pick<AudienceStore, 'recordSessions' | 'addQoe' | 'counts' | 'raisePeak' | 'pruneSessions' | 'qoe' | 'countsOf'>;

/** The audience of one StreamDO over its AudienceStore; remembers when it last forgot sessions. */
export class StreamAudience {
  readonly #store: AudienceTables;
  #lastSessionPruneAt = 0;
  /** While the fan-out tier counts (its relay shards' sum per rendition), else null: this store counts. */
  #relayCounts: ((now: number) => Record<string, number>) | null = null;

  constructor(store: AudienceTables) {
    this.#store = store;
  }

  /** Counting moves to the relay shards (`counts` gives their sum at a time) or, with null, back here. */
  countBy(counts: ((now: number) => Record<string, number>) | null): void {
    this.#relayCounts = counts;
  }

  /** Whether the relay shards count (a batch's sessions then go to them, not into this store). */
  get relaysCount(): boolean {
    return this.#relayCounts !== null;
  }

  /** Viewers now (within the stream's viewer window). */
  counts(row: StreamRow, now: number): ViewerCounts {
    return this.#relayCounts ? this.#store.countsOf(this.#relayCounts(now)) : this.#store.counts(now, viewerWindowMs(row.target_duration));
  }

  /** Viewers now (within the stream's viewer window) and QoE so far. */
  summary(row: StreamRow, now: number): AudienceSummary {
    return { viewers: this.counts(row, now), qoe: this.#store.qoe() };
  }

  /**
   * Stores one isolate's batch: sessions, QoE sums and the peak, logging viewer milestones and
   * quality switches. Runs inside a write; returns the current viewers.
   */
  record(tx: WriteContext, row: StreamRow, now: number, batch: ViewerBatch): { current: number } {
    // Sessions come from polls the StreamDO rendered, so their renditions exist; switches come from
    // beacons, and one naming a rendition the stream does not have is a client's invention.
    const renditions = ladderRenditions(row);
    if (!this.#relayCounts) this.#store.recordSessions(batch.sessions);
    const known: Record<string, number> = {};
    for (const [key, n] of Object.entries(batch.qoe.switches)) {
      const [from, to] = key.split('>');
      if (from !== undefined && to !== undefined && renditions.has(from) && renditions.has(to)) known[key] = n;
    }
    batch = { ...batch, qoe: { ...batch.qoe, switches: known, startups: batch.qoe.startups.slice(0, MAX_STARTUP_PER_BATCH) } };
    this.#store.addQoe(batch.qoe);
    const { current } = this.counts(row, now);
    const before = this.#store.raisePeak(current);
    for (const m of crossedMilestones(before, current)) tx.event(now, 'viewer_milestone', { viewers: m, peak: current });
    const switches = Object.values(batch.qoe.switches).reduce((a, b) => a + b, 0);
    if (switches > 0) tx.event(now, 'quality_switch', { count: switches, switches: batch.qoe.switches });
    if (now - this.#lastSessionPruneAt > SESSION_PRUNE_INTERVAL_MS) {
      this.#lastSessionPruneAt = now;
      this.#store.pruneSessions(sessionForgetBefore(now, row.target_duration));
    }
    return { current };
  }
}
