/** The StreamDO's alarm and its duties: liveness, reconnect window expiry, event pruning, snapshots, media purge, registry reports. */
import type { StreamStatus } from '../../../shared/src/types.ts';
import type { Env } from '../env.ts';
import { metricsReportDue, type StreamMetricsSummary } from '../metrics/stream-metrics-summary.ts';
import type { Settings } from '../settings.ts';
import { registryStub } from '../stream-registry/stream-registry.ts';
import { expireStream, expireWindow, failSilentOrigin, isPublisherFresh, isWindowExpired, windowDeadline } from './stream-lifecycle.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import type { StreamWriter } from './stream-writer.ts';
import { purgeBucket, purgeOriginStore } from './stream-purge.ts';

/** Delay before retrying a registry report that failed. */
const REGISTRY_RETRY_MS = 1000;

/** The timers besides the row that decide the next alarm. */
export interface AlarmInputs {
  livenessMs: number;
  /** How long events are kept, and the oldest one kept (null when the log is empty). */
  retentionMs: number;
  oldestEventTs: number | null;
  /** When the analytics feed wants its next snapshot, or null when it wants none. */
  snapshotDueAt: number | null;
}

/** The stream's timeouts in ms, from the settings. */
export interface StreamTimeouts {
  /** Silence after which a live stream goes to `error`. */
  livenessMs: number;
  /** How long events stay in the log. */
  retentionMs: number;
}

/** The timeouts of `settings` in ms. */
export function streamTimeouts(settings: Settings): StreamTimeouts {
  return {
    livenessMs: settings.livenessTimeoutSeconds * 1000,
    retentionMs: settings.eventRetentionSeconds * 1000,
  };
}

/**
 * The timer-driven transition the alarm owes the stream now: `silence` (live, no word within the
 * liveness timeout → error), `window` (reconnecting or error past its reconnect window → ended),
 * or null. Pure.
 */
export function dueTransition(row: StreamRow, now: number, t: Pick<StreamTimeouts, 'livenessMs'>): 'silence' | 'window' | null {
  if (row.deleted_at !== null) return null;
  if (row.status === 'live' && !isPublisherFresh(row, now, t.livenessMs)) return 'silence';
  if (isWindowExpired(row, now)) return 'window';
  return null;
}

/**
 * When the single alarm should fire: the earliest of the liveness deadline, the end of the
 * reconnect window (exactly then, so ENDLIST reaches viewers within a playlist's max-age of it), a pending media purge, a registry retry, the next event-log prune and the next feed
 * snapshot; null when nothing is pending. Pure.
 */
export function nextAlarmAt(row: StreamRow, now: number, t: AlarmInputs): number | null {
  const due: number[] = [];
  const alive = row.deleted_at === null;
  if (row.status === 'live' && alive) due.push((row.last_activity_at ?? now) + t.livenessMs);
  const deadline = windowDeadline(row);
  if (deadline !== null && alive) due.push(deadline);
  if (t.oldestEventTs !== null) due.push(t.oldestEventTs + t.retentionMs);
  if (t.snapshotDueAt !== null) due.push(t.snapshotDueAt);
  if (row.purge_pending === 1) due.push(now);
  if (row.registry_synced_version < row.registry_version) due.push(now + REGISTRY_RETRY_MS);
  return due.length ? Math.min(...due) : null;
}

/**
 * Reports the stream's current row to the registry if it has unreported changes. A failure is
 * logged and left pending, so the alarm retries it.
 */
export async function reportToRegistry(env: Env, store: StreamStore, metrics?: StreamMetricsSummary): Promise<void> {
  const row = store.stream();
  if (!row || (row.registry_synced_version >= row.registry_version && !metrics)) return;
  try {
    await registryStub(env).report({
      id: row.id,
      name: row.name,
      status: row.status as StreamStatus,
      createdAt: row.created_at,
      updatedAt: Date.now(),
      version: row.registry_version,
      deleted: row.deleted_at !== null,
      metrics,
    });
    // Only the version that was sent counts as synced: a change made meanwhile stays pending.
    const synced = store.stream()?.registry_synced_version ?? 0;
    store.updateStream({ registry_synced_version: Math.max(synced, row.registry_version) });
  } catch (err) {
    console.error(`stream ${row.id}: registry report failed, retrying from the alarm`, err);
  }
}

/**
 * A deleted stream's purge, one alarm's worth: R2 first (in batches), then the origin's store, then
 * the object's whole storage once the registry holds the tombstone. True when storage is gone.
 */
export async function purgeMedia(env: Env, settings: { mediaDeleteUrl: string | null; originSecret: string | null }, row: StreamRow, store: Pick<StreamStore, 'forget'>, storage: Pick<DurableObjectStorage, 'deleteAll'>): Promise<boolean> {
  if (!(await purgeBucket(env.MEDIA, row.id))) return false;
  // The registry keeps the tombstone (so a late report cannot revive the id); wait until it has it.
  if (row.registry_synced_version !== row.registry_version) return false;
  await purgeOriginStore(settings.mediaDeleteUrl, settings.originSecret, row.id);
  await storage.deleteAll();
  store.forget();
  return true;
}

/** The analytics feed as the alarm sees it (StreamFeed). */
export interface SnapshotSource {
  /** Closes every feed socket (the stream expired: nothing follows). */
  closeAll(code: number, reason: string): void;
  /** When the feed wants its next snapshot, or null. */
  nextSnapshotAt(row: StreamRow, now: number): number | null;
  /** Sends a snapshot of the stream as it is now, if anyone listens and it changed. */
  publishSnapshot(now: number): void;
}

/** A further duty of the alarm, kept in its own module (recordings and media retention). */
export interface UpkeepDuty {
  /** After every change of the stream (status, settings) and in every alarm, before re-arming. */
  afterChange?(row: StreamRow, now: number): void;
  /** The alarm's work. */
  runAlarm(row: StreamRow, now: number): Promise<void>;
  /** When the duty next needs the alarm, or null. */
  nextAlarmAt(now: number): number | null;
  /** True when an ended stream owes this duty nothing more (it serves nothing, keeps nothing, has nothing queued). */
  doneWith(row: StreamRow, now: number): boolean;
}

/**
 * True when an ended stream has expired: every duty is done with it (the final window was released
 * once playlists went 410, no recording is left, no purge is queued). Without duties nothing decides
 * when an ended stream stops being served, so it never expires. Pure.
 */
export function hasExpired(row: StreamRow, duties: readonly Pick<UpkeepDuty, 'doneWith'>[], now: number): boolean {
  return row.status === 'ended' && row.deleted_at === null && duties.length > 0 && duties.every((d) => d.doneWith(row, now));
}

/** What StreamUpkeep works with; all owned by the StreamDO. */
export interface UpkeepDeps {
  env: Env;
  storage: Pick<DurableObjectStorage, 'setAlarm' | 'deleteAlarm' | 'deleteAll'>;
  /** Where the origin's store is purged after a delete. */
  purge: { mediaDeleteUrl: string | null; originSecret: string | null };
  store: StreamStore;
  writer: StreamWriter;
  feed: SnapshotSource;
  timeouts: StreamTimeouts;
  /** The stream's metrics summary for the registry (viewers, QoE, live-edge age). */
  metrics?: (now: number) => StreamMetricsSummary;
  duties?: readonly UpkeepDuty[];
}

/**
 * The one alarm of a StreamDO: it runs every timer's duty and re-arms itself for the earliest next
 * one. Each duty re-reads state, so a repeated (at-least-once) alarm changes nothing.
 */
export class StreamUpkeep {
  readonly #d: UpkeepDeps;
  /** When the last metrics summary went to the registry (in memory: after an eviction one goes at once). */
  #metricsSentAt: number | null = null;

  constructor(deps: UpkeepDeps) {
    this.#d = deps;
  }

  /** The alarm handler: liveness, reconnect window expiry, event pruning, media purge, feed snapshot, then re-arm. */
  async runAlarm(): Promise<void> {
    const { store, writer, timeouts } = this.#d;
    const row = store.stream();
    if (!row) return;
    const now = Date.now();
    const due = dueTransition(row, now, timeouts);
    if (due === 'silence') writer.write((tx) => failSilentOrigin(store, tx, row, now, timeouts.livenessMs));
    else if (due === 'window') writer.write((tx) => expireWindow(store, tx, row, now));
    store.pruneEvents(now - timeouts.retentionMs);
    if (row.purge_pending === 1 && (await purgeMedia(this.#d.env, this.#d.purge, row, store, this.#d.storage))) return;
    for (const duty of this.#d.duties ?? []) await duty.runAlarm(store.stream() ?? row, now);
    const after = store.stream();
    if (after && hasExpired(after, this.#d.duties ?? [], now)) {
      // Purged like a deleted stream from the next alarm on (at once: purge_pending is set).
      writer.write((tx) => expireStream(store, tx, after, now));
      this.#d.feed.closeAll(1000, 'stream expired');
    }
    this.#d.feed.publishSnapshot(now);
    await this.afterChange();
  }

  /** Tells the registry about any change, then sets (or clears) the one alarm. */
  async afterChange(): Promise<void> {
    const { env, store, storage, timeouts } = this.#d;
    const now = Date.now();
    const changed = store.stream();
    if (changed) for (const duty of this.#d.duties ?? []) duty.afterChange?.(changed, now);
    const before = store.stream();
    const metrics = before && this.#d.metrics && metricsReportDue(before.status, this.#metricsSentAt, now) ? this.#d.metrics(now) : undefined;
    await reportToRegistry(env, store, metrics);
    if (metrics) this.#metricsSentAt = now;
    const row = store.stream();
    const at = row
      ? nextAlarmAt(row, now, {
          livenessMs: timeouts.livenessMs,
          retentionMs: timeouts.retentionMs,
          oldestEventTs: store.oldestEventTs(),
          snapshotDueAt: this.#d.feed.nextSnapshotAt(row, now),
        })
      : null;
    const dutyTimes = (this.#d.duties ?? []).map((d) => d.nextAlarmAt(now)).filter((t): t is number => t !== null);
    const next = at === null && dutyTimes.length === 0 ? null : Math.min(...(at === null ? [] : [at]), ...dutyTimes);
    if (next === null) await storage.deleteAlarm();
    else await storage.setAlarm(next);
  }
}
