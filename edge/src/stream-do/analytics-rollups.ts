/** A StreamDO's per-minute analytics: the open minute's running sums, closed minutes, retention and the push to the fleet. */
import { MINUTE_MS } from '../../../shared/src/analytics/analytics-query.ts';
import { minuteOf, type MinuteRollup } from '../analytics/minute-rollup.ts';
import { addStartup, type StartupHistogram } from '../analytics/startup-histogram.ts';
import type { SessionSeen } from '../viewers/viewer-batch.ts';
import type { StreamRow } from './stream-schema.ts';
import type { UpkeepDuty } from './stream-upkeep.ts';

/** DDL of the rollup tables; `IF NOT EXISTS` makes it an additive migration for older objects. */
export const ANALYTICS_SCHEMA = `
CREATE TABLE IF NOT EXISTS analytics_minutes (
  minute INTEGER PRIMARY KEY,
  current_viewers INTEGER NOT NULL,
  peak_viewers INTEGER NOT NULL,
  unique_viewers INTEGER NOT NULL,
  ingest_kbps REAL,
  startups TEXT NOT NULL,
  played_ms INTEGER NOT NULL,
  rebuffer_ms INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  live INTEGER NOT NULL,
  pushed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS analytics_minutes_unpushed ON analytics_minutes (minute) WHERE pushed = 0;
CREATE TABLE IF NOT EXISTS analytics_open (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  minute INTEGER NOT NULL,
  peak_viewers INTEGER NOT NULL DEFAULT 0,
  heartbeats INTEGER NOT NULL DEFAULT 0,
  kbps_sum REAL NOT NULL DEFAULT 0,
  startups TEXT NOT NULL DEFAULT '{}',
  played_ms INTEGER NOT NULL DEFAULT 0,
  rebuffer_ms INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS analytics_open_sessions (sid TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS analytics_open_startups (sid TEXT PRIMARY KEY) WITHOUT ROWID;
`;

/** Delay before the alarm retries minutes the fleet did not take. */
export const FLEET_RETRY_MS = 30_000;
/** Minutes older than this are no longer offered to the fleet (its duplicate check keeps two days). */
export const FLEET_PUSH_GIVE_UP_MS = 24 * 3600_000;
/** Closed minutes one push carries at most. */
const PUSH_BATCH = 60;
/** Batches one push call sends at most; the alarm carries on after that. */
const MAX_PUSH_ROUNDS = 10;
/** Pruning waits up to this long past retention, so an idle stream's alarm wakes at most hourly for it. */
export const PRUNE_SLACK_MS = 3600_000;

/** What a batch of viewers adds to the open minute (the StreamDO has stored it in the audience first). */
export interface ViewerMinuteInput {
  sessions: readonly SessionSeen[];
  /** Viewers right after the batch. */
  current: number;
  startups: readonly { sid: string; ms: number }[];
  playedMs: number;
  rebufferMs: number;
  errors: number;
}

/** What the rollups read from the rest of the StreamDO and where closed minutes go. */
export interface RollupDeps {
  retentionMs: number;
  /** Viewers within the viewer window at `at` (AudienceStore.counts). */
  currentViewers(at: number): number;
  /** Sends closed minutes to the fleet aggregator; a rejection leaves them for the alarm to retry. */
  push(minutes: MinuteRollup[]): Promise<void>;
  /** How long after its end an ended stream is still served (and watched): after that nothing more arrives for it. */
  servedAfterEndMs(row: StreamRow): number;
  /**
   * Sets the alarm again once a push is over: an alarm that ran while it was in flight armed itself
   * for the retry (30 s later), which an expiring stream must not wait for when the push went through.
   */
  rearm?(): void;
}

/** Slack past an ended stream's last served moment for the isolates' last viewer batches (they flush within a second). */
const LAST_BATCH_SLACK_MS = 2000;
/** How long an expiring stream's alarm waits for the fleet to take its last minute before leaving it to the retry. */
const LAST_PUSH_WAIT_MS = 5000;

interface OpenRow extends Record<string, SqlStorageValue> {
  minute: number;
  peak_viewers: number;
  heartbeats: number;
  kbps_sum: number;
  startups: string;
  played_ms: number;
  rebuffer_ms: number;
  errors: number;
  /** Sessions the fan-out tier's relay shards saw first this minute (a column added later, so read with `?? 0`). */
  unique_elsewhere: number | null;
}

interface MinuteRow extends Record<string, SqlStorageValue> {
  minute: number;
  current_viewers: number;
  peak_viewers: number;
  unique_viewers: number;
  ingest_kbps: number | null;
  startups: string;
  played_ms: number;
  rebuffer_ms: number;
  errors: number;
  live: number;
}

function fromRow(r: MinuteRow): MinuteRollup {
  return {
    minute: r.minute,
    currentViewers: r.current_viewers,
    peakViewers: r.peak_viewers,
    uniqueViewers: r.unique_viewers,
    ingestKbps: r.ingest_kbps,
    startups: JSON.parse(r.startups) as StartupHistogram,
    playedMs: r.played_ms,
    rebufferMs: r.rebuffer_ms,
    errors: r.errors,
    liveStreams: r.live,
    activeStreams: 1,
  };
}

/**
 * Per-minute rollups of one stream. Everything is attributed to the minute the StreamDO receives it
 * in. A minute opens with the first heartbeat or viewer batch in it (an idle, unwatched stream writes
 * nothing) and closes at the first call after its end (`closeDue`, which every hook and the alarm
 * run first), so the next minute's data never leaks into it. Takes `now` from its caller.
 */
export class AnalyticsRollups {
  readonly #sql: SqlStorage;
  readonly #d: RollupDeps;
  #pushing: Promise<void> | null = null;
  /** When an ended stream's open minute may close early (see the duty), once an alarm has seen it ended. */
  #closeEarlyAt: number | null = null;

  constructor(sql: SqlStorage, deps: RollupDeps) {
    this.#sql = sql;
    this.#d = deps;
  }

  /** Creates the tables if they are missing. */
  migrate(): void {
    this.#sql.exec(ANALYTICS_SCHEMA);
    // Added with the fan-out tier: sessions its relay shards saw first in the open minute (they have no row here).
    const columns = this.#sql.exec<{ name: string }>('PRAGMA table_info(analytics_open)').toArray();
    if (!columns.some((c) => c.name === 'unique_elsewhere')) this.#sql.exec('ALTER TABLE analytics_open ADD COLUMN unique_elsewhere INTEGER NOT NULL DEFAULT 0');
  }

  /**
   * Unique viewers of `minute` counted by the fan-out tier's relay shards (each session id belongs to
   * one relay, so their counts add up). Counted only while that minute is open here: a relay's last
   * report of a minute can come after the minute closed, and is then not counted.
   */
  uniqueElsewhere(now: number, minute: number, n: number): boolean {
    const opened = this.#openAt(now);
    this.#sql.exec('UPDATE analytics_open SET unique_elsewhere = unique_elsewhere + ? WHERE singleton = 1 AND minute = ?', n, minute);
    return opened;
  }

  #open(): OpenRow | null {
    return this.#sql.exec<OpenRow>('SELECT * FROM analytics_open WHERE singleton = 1').toArray()[0] ?? null;
  }

  /** Opens the minute of `now` if none is open (after closing a finished one); true when it opened one. */
  #openAt(now: number): boolean {
    this.closeDue(now);
    return this.#sql.exec('INSERT OR IGNORE INTO analytics_open (singleton, minute) VALUES (1, ?)', minuteOf(now)).rowsWritten > 0;
  }

  /**
   * Closes the open minute if it ended before `now`: its row is written with the viewers at its end,
   * the running sums are cleared, old minutes pruned and the push to the fleet started (not awaited).
   * Returns the closed minute, or null.
   */
  closeDue(now: number, early = false): MinuteRollup | null {
    const open = this.#open();
    if (!open || (!early && open.minute + MINUTE_MS > now)) return null;
    const end = Math.min(open.minute + MINUTE_MS, now);
    const current = this.#d.currentViewers(end);
    const unique = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM analytics_open_sessions').one().n + (open.unique_elsewhere ?? 0);
    const row: MinuteRow = {
      minute: open.minute,
      current_viewers: current,
      peak_viewers: Math.max(open.peak_viewers, current),
      unique_viewers: unique,
      ingest_kbps: open.heartbeats === 0 ? null : Math.round((open.kbps_sum / open.heartbeats) * 10) / 10,
      startups: open.startups,
      played_ms: open.played_ms,
      rebuffer_ms: open.rebuffer_ms,
      errors: open.errors,
      live: open.heartbeats > 0 ? 1 : 0,
    };
    this.#sql.exec(
      `INSERT OR REPLACE INTO analytics_minutes (minute, current_viewers, peak_viewers, unique_viewers, ingest_kbps, startups, played_ms, rebuffer_ms, errors, live, pushed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      row.minute, row.current_viewers, row.peak_viewers, row.unique_viewers, row.ingest_kbps, row.startups, row.played_ms, row.rebuffer_ms, row.errors, row.live,
    );
    this.#sql.exec('DELETE FROM analytics_open');
    this.#sql.exec('DELETE FROM analytics_open_sessions');
    this.#sql.exec('DELETE FROM analytics_open_startups');
    this.prune(now);
    void this.pushPending();
    return fromRow(row);
  }

  /** A heartbeat's ingest bitrate; the minute counts as live. True when it opened a minute (the alarm must be set to close it). */
  heartbeat(now: number, kbps: number): boolean {
    const opened = this.#openAt(now);
    this.#sql.exec('UPDATE analytics_open SET heartbeats = heartbeats + 1, kbps_sum = kbps_sum + ? WHERE singleton = 1', kbps);
    return opened;
  }

  /** A viewer batch: its sessions (counted once a minute), the peak, startups (once per session a minute) and beacon sums. True when it opened a minute. */
  viewers(now: number, v: ViewerMinuteInput): boolean {
    const opened = this.#openAt(now);
    // A session already seen this minute is an ignored conflict: no row is written for it.
    for (const s of v.sessions) this.#sql.exec('INSERT OR IGNORE INTO analytics_open_sessions (sid) VALUES (?)', s.sid);
    const open = this.#open()!;
    let startups: StartupHistogram | null = null;
    for (const s of v.startups) {
      if (this.#sql.exec('INSERT OR IGNORE INTO analytics_open_startups (sid) VALUES (?)', s.sid).rowsWritten === 0) continue;
      startups = addStartup(startups ?? (JSON.parse(open.startups) as StartupHistogram), s.ms);
    }
    this.#sql.exec(
      `UPDATE analytics_open SET peak_viewers = MAX(peak_viewers, ?), played_ms = played_ms + ?, rebuffer_ms = rebuffer_ms + ?,
         errors = errors + ?, startups = ? WHERE singleton = 1`,
      v.current, v.playedMs, v.rebufferMs, v.errors, startups === null ? open.startups : JSON.stringify(startups),
    );
    return opened;
  }

  /** Closed minutes in [from, to), oldest first, not older than retention. */
  read(from: number, to: number, now: number): MinuteRollup[] {
    const since = Math.max(from, now - this.#d.retentionMs);
    return this.#sql.exec<MinuteRow>('SELECT * FROM analytics_minutes WHERE minute >= ? AND minute < ? ORDER BY minute', since, to).toArray().map(fromRow);
  }

  /** Deletes minutes past retention; returns how many. */
  prune(now: number): number {
    return this.#sql.exec('DELETE FROM analytics_minutes WHERE minute < ?', now - this.#d.retentionMs).rowsWritten;
  }

  /**
   * Offers closed minutes the fleet has not acknowledged, oldest first; one push at a time. A failure
   * is logged and left for the alarm (at least once: the fleet ignores a minute it already has).
   */
  pushPending(now = Date.now()): Promise<void> {
    this.#pushing ??= this.#push(now).finally(() => {
      this.#pushing = null;
    });
    return this.#pushing;
  }

  async #push(now: number): Promise<void> {
    try {
      await this.#pushRounds(now);
      this.#d.rearm?.();
    } catch (err) {
      // Storage gone under a push (the stream was purged meanwhile): nothing is left to mark.
      console.error('analytics: fleet push stopped', err);
    }
  }

  async #pushRounds(now: number): Promise<void> {
    const stale = this.#sql.exec('UPDATE analytics_minutes SET pushed = 1 WHERE pushed = 0 AND minute < ?', now - FLEET_PUSH_GIVE_UP_MS).rowsWritten;
    if (stale > 0) console.warn(`analytics: ${stale} minutes older than a day were never taken by the fleet; giving up on them`);
    // Minutes that close while a push is under way go in the next round of the same call.
    for (let round = 0; round < MAX_PUSH_ROUNDS; round++) {
      const rows = this.#sql.exec<MinuteRow>('SELECT * FROM analytics_minutes WHERE pushed = 0 ORDER BY minute LIMIT ?', PUSH_BATCH).toArray();
      if (rows.length === 0) return;
      try {
        await this.#d.push(rows.map(fromRow));
      } catch (err) {
        console.error(`analytics: fleet push of ${rows.length} minutes failed, the alarm retries`, err);
        return;
      }
      for (const r of rows) this.#sql.exec('UPDATE analytics_minutes SET pushed = 1 WHERE minute = ?', r.minute);
    }
  }

  /** True when a closed minute still waits for the fleet. */
  #hasUnpushed(): boolean {
    return this.#sql.exec('SELECT 1 FROM analytics_minutes WHERE pushed = 0 LIMIT 1').toArray().length > 0;
  }

  /** The alarm duty: close the minute on time, prune, retry pushes; holds an ended stream only while a minute is open or unpushed. */
  duty(): UpkeepDuty {
    const noteEnd = (row: StreamRow) => {
      this.#closeEarlyAt = row.status === 'ended' && row.ended_at !== null ? row.ended_at + this.#d.servedAfterEndMs(row) + LAST_BATCH_SLACK_MS : null;
    };
    return {
      afterChange: (row) => noteEnd(row),
      runAlarm: async (row, now) => {
        // An ended stream nobody can watch any more gets no more data: its last minute closes now
        // (partial), so its expiry does not wait for the minute's end, and its push is given a few
        // seconds; a fleet slower than that is left to the retry, which the expiry then waits for.
        noteEnd(row);
        const over = this.#closeEarlyAt !== null && now >= this.#closeEarlyAt;
        this.closeDue(now, over);
        this.prune(now);
        if (!this.#hasUnpushed()) return;
        // Otherwise not awaited: a slow fleet object must not hold up a live stream's alarm.
        const pushed = this.pushPending(now);
        if (over) await Promise.race([pushed, new Promise((r) => setTimeout(r, LAST_PUSH_WAIT_MS))]);
      },
      nextAlarmAt: (now) => {
        const due: number[] = [];
        const open = this.#open();
        if (open) due.push(open.minute + MINUTE_MS);
        if (open && this.#closeEarlyAt !== null) due.push(Math.max(now, this.#closeEarlyAt));
        if (this.#hasUnpushed()) due.push(now + FLEET_RETRY_MS);
        const oldest = this.#sql.exec<{ m: number | null }>('SELECT MIN(minute) AS m FROM analytics_minutes').one().m;
        if (oldest !== null) due.push(oldest + this.#d.retentionMs + PRUNE_SLACK_MS);
        return due.length ? Math.min(...due) : null;
      },
      doneWith: () => this.#open() === null && !this.#hasUnpushed(),
    };
  }
}
