import type { QoeSummary, ViewerCounts } from '../../../shared/src/feed/feed-messages.ts';
import type { QoeDelta, SessionSeen } from '../viewers/viewer-batch.ts';

/** DDL of a StreamDO's audience: totals (one row), viewer sessions and startup samples. */
export const AUDIENCE_SCHEMA = `
CREATE TABLE IF NOT EXISTS audience (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  peak INTEGER NOT NULL DEFAULT 0,
  pruned_sessions INTEGER NOT NULL DEFAULT 0,
  beacons INTEGER NOT NULL DEFAULT 0,
  played_ms INTEGER NOT NULL DEFAULT 0,
  rebuffer_count INTEGER NOT NULL DEFAULT 0,
  rebuffer_ms INTEGER NOT NULL DEFAULT 0,
  switches INTEGER NOT NULL DEFAULT 0,
  feed_seq INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO audience (singleton) VALUES (1);
CREATE TABLE IF NOT EXISTS sessions (
  sid TEXT PRIMARY KEY,
  rendition TEXT NOT NULL,
  last_seen INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_last_seen ON sessions (last_seen);
CREATE TABLE IF NOT EXISTS startup_samples (ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS startup_samples_by_ms ON startup_samples (ms);
CREATE TABLE IF NOT EXISTS startup_sessions (
  sid TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS startup_sessions_by_at ON startup_sessions (at);
`;

/** Most startup times a stream stores (a uniform sample of all reported). */
export const MAX_STARTUP_SAMPLES = 1000;

interface AudienceRow extends Record<string, SqlStorageValue> {
  peak: number;
  pruned_sessions: number;
  beacons: number;
  played_ms: number;
  rebuffer_count: number;
  rebuffer_ms: number;
  switches: number;
  feed_seq: number;
}

/** The SQL behind a stream's viewer counts, QoE sums and feed sequence. No policy. */
export class AudienceStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Creates the tables if they are missing. */
  migrate(): void {
    this.#sql.exec(AUDIENCE_SCHEMA);
    // Added after the first schema: startup times reported so far (the reservoir keeps a sample of them).
    const columns = this.#sql.exec<{ name: string }>('PRAGMA table_info(audience)').toArray();
    if (!columns.some((c) => c.name === 'startup_seen')) this.#sql.exec('ALTER TABLE audience ADD COLUMN startup_seen INTEGER NOT NULL DEFAULT 0');
  }

  #row(): AudienceRow {
    return this.#sql.exec<AudienceRow>('SELECT * FROM audience WHERE singleton = 1').one();
  }

  /** Upserts sessions; a session keeps its latest poll and the rendition of that poll. */
  recordSessions(sessions: readonly SessionSeen[]): void {
    for (const s of sessions) {
      this.#sql.exec(
        `INSERT INTO sessions (sid, rendition, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (sid) DO UPDATE SET
           rendition = CASE WHEN excluded.last_seen >= last_seen THEN excluded.rendition ELSE rendition END,
           last_seen = MAX(last_seen, excluded.last_seen)`,
        s.sid,
        s.rendition,
        s.lastSeen,
      );
    }
  }

  /** Viewers now: sessions seen at or after `now - windowMs`; total counts every session ever seen. */
  counts(now: number, windowMs: number): ViewerCounts {
    const since = now - windowMs;
    const renditions: Record<string, number> = {};
    let current = 0;
    for (const r of this.#sql.exec<{ rendition: string; n: number }>(
      'SELECT rendition, COUNT(*) AS n FROM sessions WHERE last_seen >= ? GROUP BY rendition ORDER BY rendition',
      since,
    )) {
      renditions[r.rendition] = r.n;
      current += r.n;
    }
    const row = this.#row();
    const known = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM sessions').one().n;
    return { current, peak: Math.max(row.peak, current), total: row.pruned_sessions + known, renditions };
  }

  /** Raises the stored peak to `current`; returns the peak before. */
  raisePeak(current: number): number {
    const before = this.#row().peak;
    if (current > before) this.#sql.exec('UPDATE audience SET peak = ? WHERE singleton = 1', current);
    return before;
  }

  /** Forgets sessions not seen since `before` (still counted in `total`); returns how many. */
  pruneSessions(before: number): number {
    const n = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM sessions WHERE last_seen < ?', before).one().n;
    if (n > 0) {
      this.#sql.exec('DELETE FROM sessions WHERE last_seen < ?', before);
      this.#sql.exec('UPDATE audience SET pruned_sessions = pruned_sessions + ? WHERE singleton = 1', n);
    }
    // Sessions that reported a startup time are kept as long as viewer sessions are: a session
    // gone that long has stopped watching, and its signature alone cannot mint it a second start.
    this.#sql.exec('DELETE FROM startup_sessions WHERE at < ?', before);
    return n;
  }

  /** Adds a batch's beacon figures. */
  addQoe(d: QoeDelta): void {
    const switches = Object.values(d.switches).reduce((a, b) => a + b, 0);
    this.#sql.exec(
      `UPDATE audience SET beacons = beacons + ?, played_ms = played_ms + ?, rebuffer_count = rebuffer_count + ?,
         rebuffer_ms = rebuffer_ms + ?, switches = switches + ? WHERE singleton = 1`,
      d.beacons,
      d.playedMs,
      d.rebufferCount,
      d.rebufferMs,
      switches,
    );
    for (const { sid, ms } of d.startups) {
      // One startup time per session, whichever isolates its beacons went through.
      const fresh = this.#sql.exec('INSERT OR IGNORE INTO startup_sessions (sid, at) VALUES (?, ?)', sid, Date.now()).rowsWritten > 0;
      if (fresh) this.#addStartupSample(ms);
    }
  }

  /**
   * Reservoir sampling (Vitter's algorithm R): the table never holds more than
   * `MAX_STARTUP_SAMPLES` rows, each reported time kept with equal probability, so the median stays
   * exact up to that many samples and unbiased past it, whatever players send.
   */
  #addStartupSample(ms: number): void {
    const seen = this.#sql.exec<{ startup_seen: number }>('UPDATE audience SET startup_seen = startup_seen + 1 WHERE singleton = 1 RETURNING startup_seen').one().startup_seen;
    if (seen <= MAX_STARTUP_SAMPLES) {
      this.#sql.exec('INSERT INTO startup_samples (ms) VALUES (?)', ms);
      return;
    }
    const slot = Math.floor(Math.random() * seen);
    if (slot < MAX_STARTUP_SAMPLES) this.#sql.exec('UPDATE startup_samples SET ms = ? WHERE rowid = (SELECT rowid FROM startup_samples LIMIT 1 OFFSET ?)', ms, slot);
  }

  /** QoE over every beacon so far. */
  qoe(): QoeSummary {
    const row = this.#row();
    const samples = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM startup_samples').one().n;
    // The lower median: an exact sample, no interpolation.
    const p50 = samples === 0 ? null : this.#sql.exec<{ ms: number }>('SELECT ms FROM startup_samples ORDER BY ms LIMIT 1 OFFSET ?', Math.floor((samples - 1) / 2)).one().ms;
    const watched = row.played_ms + row.rebuffer_ms;
    return {
      beacons: row.beacons,
      startupMsP50: p50,
      rebufferCount: row.rebuffer_count,
      rebufferRatio: watched === 0 ? 0 : Math.round((row.rebuffer_ms / watched) * 10_000) / 10_000,
      switches: row.switches,
    };
  }

  /** The next feed message sequence number (persisted, so it survives eviction). */
  nextFeedSeq(): number {
    return this.#sql.exec<{ feed_seq: number }>('UPDATE audience SET feed_seq = feed_seq + 1 WHERE singleton = 1 RETURNING feed_seq').one().feed_seq;
  }
}
