import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { MAX_CONNECTIONS, inBatches } from '../http/in-batches.ts';
import { parseSettings, type Settings } from '../settings.ts';
import { INITIAL_HEALTH, observe, type CdnHealthState } from './cdn-health-state.ts';
import { notifyLiveStreams, type CdnHealthEvent } from './notify-live-streams.ts';
import { probeCdn, type ProbeResult } from './probe-cdn.ts';

/** Name of the single CdnHealth instance (`idFromName`). */
export const CDN_HEALTH_NAME = 'global';

/** What Workers read (through their in-isolate cache): which configured CDNs are down. */
export interface CdnHealthSnapshot {
  down: string[];
  /** When the last probe round finished, ms since epoch; null before the first. */
  probedAt: number | null;
}

/** One CDN's stored health, for operators and tests. */
export interface CdnHealthView extends CdnHealthState {
  id: string;
  changedAt: number | null;
  lastProbeAt: number | null;
  lastError: string | null;
}

interface HealthRow extends Record<string, SqlStorageValue> {
  id: string;
  up: number;
  failures: number;
  successes: number;
  changed_at: number | null;
  last_probe_at: number | null;
  last_error: string | null;
  errors_window_start: number;
  errors_in_window: number;
  probe_ok: number;
}

/** Session ids one report may add per CDN (an isolate sends at most 64). */
const MAX_REPORTED_SESSIONS = 64;

/**
 * The authority for CDN health: probes every configured CDN's health URL each probe interval
 * (a self-rescheduling alarm; the every-minute Cron Trigger restarts the loop if it ever stops),
 * counts player error beacons as a passive signal, applies hysteresis, and writes each change
 * into every live stream's event log.
 */
export class CdnHealth extends DurableObject<Env> {
  readonly #settings: Settings;
  #round: Promise<CdnHealthSnapshot> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#settings = parseSettings(env);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS cdn_health (
          id TEXT PRIMARY KEY,
          up INTEGER NOT NULL,
          failures INTEGER NOT NULL,
          successes INTEGER NOT NULL,
          changed_at INTEGER,
          last_probe_at INTEGER,
          last_error TEXT,
          errors_window_start INTEGER NOT NULL DEFAULT 0,
          errors_in_window INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS cdn_error_sessions (
          cdn TEXT NOT NULL,
          sid TEXT NOT NULL,
          at INTEGER NOT NULL,
          PRIMARY KEY (cdn, sid)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
      `);
      // Added after the first schema: whether the latest probe passed.
      const columns = ctx.storage.sql.exec<{ name: string }>('PRAGMA table_info(cdn_health)').toArray();
      if (!columns.some((c) => c.name === 'probe_ok')) ctx.storage.sql.exec('ALTER TABLE cdn_health ADD COLUMN probe_ok INTEGER NOT NULL DEFAULT 0');
    });
  }

  /** Which configured CDNs are down; also (re)starts the probe loop if it is not running. */
  async snapshot(): Promise<CdnHealthSnapshot> {
    await this.#ensureAlarm();
    return this.#snapshot();
  }

  /** Every configured CDN's stored state. */
  states(): CdnHealthView[] {
    return this.#settings.cdns.map((cdn) => {
      const row = this.#row(cdn.id);
      return {
        id: cdn.id,
        up: row ? row.up === 1 : INITIAL_HEALTH.up,
        consecutiveFailures: row?.failures ?? 0,
        consecutiveSuccesses: row?.successes ?? 0,
        changedAt: row?.changed_at ?? null,
        lastProbeAt: row?.last_probe_at ?? null,
        lastError: row?.last_error ?? null,
      };
    });
  }

  /** One probe round now (the Cron Trigger's entry); concurrent callers share the round in flight. */
  async probe(): Promise<CdnHealthSnapshot> {
    await this.#ensureAlarm();
    this.#round ??= this.#probeRound().finally(() => (this.#round = null));
    return this.#round;
  }

  /**
   * Player error beacons, aggregated per isolate: `{cdnId: [session ids]}` (sessions the edge
   * signed). Distinct sessions are counted over the window across isolates; reaching
   * `CDN_ERROR_THRESHOLD` of them counts as one failed probe, but only while the CDN's latest probe
   * did not pass (or is overdue): a probe that passes outranks any number of player reports, so no
   * client can take a healthy CDN out.
   */
  async reportErrors(reports: Record<string, readonly string[]>): Promise<void> {
    const now = Date.now();
    const windowMs = this.#settings.cdnErrorWindowSeconds * 1000;
    const probeFreshMs = 2 * this.#settings.cdnProbeIntervalSeconds * 1000;
    const sql = this.ctx.storage.sql;
    const changes: CdnHealthEvent[] = [];
    this.ctx.storage.transactionSync(() => {
      sql.exec('DELETE FROM cdn_error_sessions WHERE at < ?', now - windowMs);
      for (const cdn of this.#settings.cdns) {
        const sids = reports[cdn.id];
        if (!Array.isArray(sids) || sids.length === 0) continue;
        for (const sid of sids.slice(0, MAX_REPORTED_SESSIONS)) sql.exec('INSERT OR IGNORE INTO cdn_error_sessions (cdn, sid, at) VALUES (?, ?, ?)', cdn.id, String(sid).slice(0, 64), now);
        const distinct = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM cdn_error_sessions WHERE cdn = ?', cdn.id).one().n;
        if (distinct < this.#settings.cdnErrorThreshold) continue;
        const row = this.#ensureRow(cdn.id);
        const probePasses = row.probe_ok === 1 && row.last_probe_at !== null && now - row.last_probe_at < probeFreshMs;
        if (probePasses) {
          console.log(`cdn ${cdn.id}: ${distinct} sessions reported errors, but its latest probe passed; probes decide`);
        } else {
          const change = this.#apply(cdn.id, { ok: false, error: `player errors from ${distinct} sessions` }, now, 'player_errors', false);
          if (change) changes.push(change);
        }
        // One burst counts once; the next burst starts a new window.
        sql.exec('DELETE FROM cdn_error_sessions WHERE cdn = ?', cdn.id);
      }
    });
    await this.#announce(changes);
  }

  /** The probe loop: one round, then the next alarm one probe interval later. Re-reads state, so a repeat is harmless. */
  override async alarm(): Promise<void> {
    if (this.#settings.cdns.length === 0) return;
    await this.ctx.storage.setAlarm(Date.now() + this.#settings.cdnProbeIntervalSeconds * 1000);
    this.#round ??= this.#probeRound().finally(() => (this.#round = null));
    await this.#round;
  }

  async #ensureAlarm(): Promise<void> {
    if (this.#settings.cdns.length === 0) return;
    // One interval out, not now: CDNs are presumed up until probed, and the cron probes at once anyway.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.#settings.cdnProbeIntervalSeconds * 1000);
  }

  async #probeRound(): Promise<CdnHealthSnapshot> {
    const cdns = this.#settings.cdns;
    const results = await inBatches(cdns, MAX_CONNECTIONS, (cdn) => probeCdn(cdn.healthUrl, this.#settings.cdnProbeTimeoutMs));
    const now = Date.now();
    const changes: CdnHealthEvent[] = [];
    this.ctx.storage.transactionSync(() => {
      cdns.forEach((cdn, i) => {
        const change = this.#apply(cdn.id, results[i]!, now, 'probe', true);
        if (change) changes.push(change);
      });
      this.ctx.storage.sql.exec("INSERT INTO meta (key, value) VALUES ('probed_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", now);
    });
    await this.#announce(changes);
    return this.#snapshot();
  }

  /** Applies one observation inside a transaction; returns the event when `up` flipped. */
  #apply(id: string, result: ProbeResult, now: number, reason: CdnHealthEvent['reason'], probed: boolean): CdnHealthEvent | null {
    const row = this.#ensureRow(id);
    const before: CdnHealthState = { up: row.up === 1, consecutiveFailures: row.failures, consecutiveSuccesses: row.successes };
    const { state, changed } = observe(before, result.ok, { downAfterFailures: this.#settings.cdnDownAfterFailures, upAfterSuccesses: this.#settings.cdnUpAfterSuccesses });
    this.ctx.storage.sql.exec(
      'UPDATE cdn_health SET up = ?, failures = ?, successes = ?, changed_at = ?, last_probe_at = ?, last_error = ? WHERE id = ?',
      state.up ? 1 : 0,
      state.consecutiveFailures,
      state.consecutiveSuccesses,
      changed ? now : row.changed_at,
      probed ? now : row.last_probe_at,
      result.error ?? (probed ? null : row.last_error),
      id,
    );
    if (probed) this.ctx.storage.sql.exec('UPDATE cdn_health SET probe_ok = ? WHERE id = ?', result.ok ? 1 : 0, id);
    if (changed) console.log(`cdn ${id} is ${state.up ? 'up' : 'down'} (${reason}${result.error ? `: ${result.error}` : ''})`);
    return changed ? { cdn: id, state: state.up ? 'up' : 'down', reason, error: state.up ? null : result.error } : null;
  }

  async #announce(changes: CdnHealthEvent[]): Promise<void> {
    if (changes.length === 0) return;
    try {
      await notifyLiveStreams(this.env, changes);
    } catch (err) {
      // The health change itself is stored; a missed event-log entry must not undo it or stop probing.
      console.error('cdn health: telling live streams failed:', err);
    }
  }

  #snapshot(): CdnHealthSnapshot {
    const down = this.#settings.cdns.filter((cdn) => this.#row(cdn.id)?.up === 0).map((cdn) => cdn.id);
    const probedAt = this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'probed_at'").toArray()[0]?.value ?? null;
    return { down, probedAt };
  }

  #row(id: string): HealthRow | null {
    return this.ctx.storage.sql.exec<HealthRow>('SELECT * FROM cdn_health WHERE id = ?', id).toArray()[0] ?? null;
  }

  #ensureRow(id: string): HealthRow {
    const existing = this.#row(id);
    if (existing) return existing;
    this.ctx.storage.sql.exec('INSERT INTO cdn_health (id, up, failures, successes) VALUES (?, 1, 0, 0)', id);
    return this.#row(id)!;
  }
}

/** The single CdnHealth instance. */
export function cdnHealthStub(env: Env): DurableObjectStub<CdnHealth> {
  return env.CDN_HEALTH.get(env.CDN_HEALTH.idFromName(CDN_HEALTH_NAME));
}
