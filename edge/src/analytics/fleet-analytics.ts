import { DurableObject } from 'cloudflare:workers';
import type { AnalyticsRange, FleetAnalyticsPoint } from '../../../shared/src/analytics/analytics-query.ts';
import type { Env } from '../env.ts';
import { parseSettings } from '../settings.ts';
import { foldMinutes, type MinuteRollup } from './minute-rollup.ts';
import { mergeStartups, type StartupHistogram } from './startup-histogram.ts';

/** Name of the single FleetAnalytics instance (`idFromName`). */
export const FLEET_ANALYTICS_NAME = 'global';
/** How long the fleet remembers which stream minutes it has counted: longer than a StreamDO keeps retrying one (a day). */
export const FLEET_DEDUP_MS = 2 * 24 * 3600_000;
/** Pruning is a range delete; once a minute is plenty. */
const PRUNE_INTERVAL_MS = 60_000;

const FLEET_SCHEMA = `
CREATE TABLE IF NOT EXISTS fleet_minutes (
  minute INTEGER PRIMARY KEY,
  current_viewers INTEGER NOT NULL DEFAULT 0,
  peak_viewers INTEGER NOT NULL DEFAULT 0,
  unique_viewers INTEGER NOT NULL DEFAULT 0,
  ingest_kbps REAL NOT NULL DEFAULT 0,
  ingest_streams INTEGER NOT NULL DEFAULT 0,
  startups TEXT NOT NULL DEFAULT '{}',
  played_ms INTEGER NOT NULL DEFAULT 0,
  rebuffer_ms INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  live_streams INTEGER NOT NULL DEFAULT 0,
  active_streams INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS fleet_received (
  stream_id TEXT NOT NULL,
  minute INTEGER NOT NULL,
  PRIMARY KEY (stream_id, minute)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fleet_received_by_minute ON fleet_received (minute);
`;

interface FleetRow extends Record<string, SqlStorageValue> {
  minute: number;
  current_viewers: number;
  peak_viewers: number;
  unique_viewers: number;
  ingest_kbps: number;
  ingest_streams: number;
  startups: string;
  played_ms: number;
  rebuffer_ms: number;
  errors: number;
  live_streams: number;
  active_streams: number;
}

/**
 * Fleet totals per minute: every StreamDO pushes its closed minutes here, and each minute's fields
 * are summed over streams (so `currentViewers` is the fleet's concurrent viewers at the minute's
 * end, `peakViewers` the sum of stream peaks, an upper bound of the fleet's). A stream minute is
 * counted once however often it is pushed (at least once from the StreamDO, deduplicated here).
 * Reads never fan out to StreamDOs.
 */
export class FleetAnalytics extends DurableObject<Env> {
  readonly #retentionMs: number;
  #prunedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#retentionMs = parseSettings(env).analyticsRetentionDays * 86_400_000;
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(FLEET_SCHEMA);
    });
  }

  /** Adds a stream's closed minutes to the totals; returns how many were new. */
  record(streamId: string, minutes: MinuteRollup[], now = Date.now()): number {
    const sql = this.ctx.storage.sql;
    const added = this.ctx.storage.transactionSync(() => {
      let n = 0;
      for (const m of minutes) {
        if (m.minute < now - this.#retentionMs) continue;
        if (sql.exec('INSERT OR IGNORE INTO fleet_received (stream_id, minute) VALUES (?, ?)', streamId, m.minute).rowsWritten === 0) continue;
        n++;
        const before = sql.exec<{ startups: string }>('SELECT startups FROM fleet_minutes WHERE minute = ?', m.minute).toArray()[0];
        const startups = mergeStartups(before ? (JSON.parse(before.startups) as StartupHistogram) : {}, m.startups);
        sql.exec(
          `INSERT INTO fleet_minutes (minute, current_viewers, peak_viewers, unique_viewers, ingest_kbps, ingest_streams, startups, played_ms, rebuffer_ms, errors, live_streams, active_streams)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
           ON CONFLICT (minute) DO UPDATE SET
             current_viewers = current_viewers + ?2, peak_viewers = peak_viewers + ?3, unique_viewers = unique_viewers + ?4,
             ingest_kbps = ingest_kbps + ?5, ingest_streams = ingest_streams + ?6, startups = ?7, played_ms = played_ms + ?8,
             rebuffer_ms = rebuffer_ms + ?9, errors = errors + ?10, live_streams = live_streams + ?11, active_streams = active_streams + ?12`,
          m.minute, m.currentViewers, m.peakViewers, m.uniqueViewers, m.ingestKbps ?? 0, m.ingestKbps === null ? 0 : 1,
          JSON.stringify(startups), m.playedMs, m.rebufferMs, m.errors, m.liveStreams, m.activeStreams,
        );
      }
      return n;
    });
    this.#prune(now);
    return added;
  }

  /** The fleet's points over `range`, minutes past retention left out. */
  history(range: AnalyticsRange, now = Date.now()): FleetAnalyticsPoint[] {
    const since = Math.max(range.from - (range.from % range.stepMs), now - this.#retentionMs);
    const rows = this.ctx.storage.sql.exec<FleetRow>('SELECT * FROM fleet_minutes WHERE minute >= ? AND minute < ? ORDER BY minute', since, range.to).toArray();
    return foldMinutes(
      rows.map((r) => ({
        minute: r.minute,
        currentViewers: r.current_viewers,
        peakViewers: r.peak_viewers,
        uniqueViewers: r.unique_viewers,
        ingestKbps: r.ingest_streams === 0 ? null : r.ingest_kbps,
        startups: JSON.parse(r.startups) as StartupHistogram,
        playedMs: r.played_ms,
        rebufferMs: r.rebuffer_ms,
        errors: r.errors,
        liveStreams: r.live_streams,
        activeStreams: r.active_streams,
      })),
      range,
    );
  }

  #prune(now: number): void {
    if (now - this.#prunedAt < PRUNE_INTERVAL_MS) return;
    this.#prunedAt = now;
    this.ctx.storage.sql.exec('DELETE FROM fleet_minutes WHERE minute < ?', now - this.#retentionMs);
    this.ctx.storage.sql.exec('DELETE FROM fleet_received WHERE minute < ?', now - FLEET_DEDUP_MS);
  }
}

/** The single FleetAnalytics object. */
export function fleetAnalyticsStub(env: Env): DurableObjectStub<FleetAnalytics> {
  return env.FLEET_ANALYTICS.get(env.FLEET_ANALYTICS.idFromName(FLEET_ANALYTICS_NAME));
}
