import type { QoeSummary, ViewerCounts } from '../../../shared/src/feed/feed-messages.ts';
import type { QoeDelta, SessionSeen } from '../viewers/viewer-batch.ts';

/** DDL of a StreamDO's audience: totals (one row), viewer sessions, their counts per second, and startup samples. */
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
-- Sessions per second of their latest poll and its rendition, kept in step with the sessions table
-- so that counting viewers sums a window of seconds instead of scanning every session (issue 14).
CREATE TABLE IF NOT EXISTS session_buckets (
  second INTEGER NOT NULL,
  rendition TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (second, rendition)
) WITHOUT ROWID;
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

/** Polls `recordSessions` reads and writes per statement (about 70 KB of JSON each way). */
const SESSION_CHUNK = 1000;

/** Width of a session bucket: a session is counted in the second of its latest poll. */
const BUCKET_MS = 1000;

/**
 * The bucket of a poll at `ms`. `last_seen` is epoch ms from the isolate's `Date.now()`, a
 * non-negative integer, so SQL's `last_seen / 1000` is the same second.
 */
function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS);
}

/** Changes to session buckets gathered over one call, so each bucket touched is written once. */
class BucketMoves {
  readonly #deltas = new Map<string, { second: number; rendition: string; delta: number }>();

  add(second: number, rendition: string, delta: number): void {
    const key = `${second} ${rendition}`;
    const entry = this.#deltas.get(key);
    if (entry) entry.delta += delta;
    else this.#deltas.set(key, { second, rendition, delta });
  }

  /** The buckets whose count changes. */
  changes(): { second: number; rendition: string; delta: number }[] {
    return [...this.#deltas.values()].filter((d) => d.delta !== 0);
  }
}

interface AudienceRow extends Record<string, SqlStorageValue> {
  peak: number;
  pruned_sessions: number;
  beacons: number;
  played_ms: number;
  rebuffer_count: number;
  rebuffer_ms: number;
  switches: number;
  feed_seq: number;
  /** Rows in the sessions table (set by `migrate()`, kept by every change to the table). */
  known_sessions: number;
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
    // Added with session_buckets: NULL until the buckets and this count are built from the sessions
    // an object stored before them. Set last, so an interrupted build is redone from the start.
    if (!columns.some((c) => c.name === 'known_sessions')) this.#sql.exec('ALTER TABLE audience ADD COLUMN known_sessions INTEGER');
    const { known_sessions } = this.#sql.exec<{ known_sessions: number | null }>('SELECT known_sessions FROM audience WHERE singleton = 1').one();
    if (known_sessions === null) this.#buildSessionCounts();
  }

  /** One scan of the sessions table (once per object, in `migrate()`). */
  #buildSessionCounts(): void {
    this.#sql.exec('DELETE FROM session_buckets');
    this.#sql.exec(`INSERT INTO session_buckets (second, rendition, n) SELECT last_seen / ${BUCKET_MS}, rendition, COUNT(*) FROM sessions GROUP BY 1, 2`);
    this.#sql.exec('UPDATE audience SET known_sessions = (SELECT COUNT(*) FROM sessions) WHERE singleton = 1');
  }

  #row(): AudienceRow {
    return this.#sql.exec<AudienceRow>('SELECT * FROM audience WHERE singleton = 1').one();
  }

  /**
   * Upserts sessions; a session keeps its latest poll and the rendition of that poll (an older poll
   * arriving late changes nothing), and moves between buckets as it does. Reads and writes the
   * sessions of up to SESSION_CHUNK polls in one statement each (JSON arrays: Durable Object SQL
   * binds at most 100 parameters), so a flush costs statements per chunk, not per session.
   */
  recordSessions(sessions: readonly SessionSeen[]): number {
    // The batch's latest poll of each session; of two at one millisecond the later, as upserts in
    // order would keep.
    const latest = new Map<string, SessionSeen>();
    for (const s of sessions) {
      const before = latest.get(s.sid);
      if (before === undefined || s.lastSeen >= before.lastSeen) latest.set(s.sid, s);
    }
    const polls = [...latest.values()];
    const moves = new BucketMoves();
    let added = 0;
    for (let i = 0; i < polls.length; i += SESSION_CHUNK) {
      const chunk = polls.slice(i, i + SESSION_CHUNK);
      const stored = new Map<string, { rendition: string; last_seen: number }>();
      for (const r of this.#sql.exec<{ sid: string; rendition: string; last_seen: number }>(
        'SELECT sid, rendition, last_seen FROM sessions WHERE sid IN (SELECT value FROM json_each(?))',
        JSON.stringify(chunk.map((s) => s.sid)),
      )) {
        stored.set(r.sid, r);
      }
      const writes: [string, string, number][] = [];
      for (const s of chunk) {
        const old = stored.get(s.sid);
        if (old !== undefined && s.lastSeen < old.last_seen) continue;
        if (old === undefined) added++;
        else moves.add(bucketOf(old.last_seen), old.rendition, -1);
        moves.add(bucketOf(s.lastSeen), s.rendition, 1);
        writes.push([s.sid, s.rendition, s.lastSeen]);
      }
      if (writes.length === 0) continue;
      // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT, not to a join.
      this.#sql.exec(
        `INSERT INTO sessions (sid, rendition, last_seen)
         SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true
         ON CONFLICT (sid) DO UPDATE SET rendition = excluded.rendition, last_seen = excluded.last_seen`,
        JSON.stringify(writes),
      );
    }
    this.#applyMoves(moves);
    if (added > 0) this.#sql.exec('UPDATE audience SET known_sessions = known_sessions + ? WHERE singleton = 1', added);
    return added;
  }

  /**
   * Counts made by the fan-out tier's relay shards (`renditions`), with this store's peak and total.
   * Sessions the relays saw first have no row here: `countElsewhere` adds them to the total.
   */
  countsOf(renditions: Record<string, number>): ViewerCounts {
    const current = Object.values(renditions).reduce((a, b) => a + b, 0);
    const row = this.#row();
    const sorted = Object.fromEntries(Object.entries(renditions).sort(([a], [b]) => (a < b ? -1 : 1)));
    return { current, peak: Math.max(row.peak, current), total: row.pruned_sessions + row.known_sessions, renditions: sorted };
  }

  /** `n` sessions counted by relay shards join the total (negative: taken back into the table). */
  countElsewhere(n: number): void {
    if (n !== 0) this.#sql.exec('UPDATE audience SET pruned_sessions = MAX(0, pruned_sessions + ?) WHERE singleton = 1', n);
  }

  /** Sessions seen at or after `since` (handed to the relay shards when the fan-out tier engages). */
  liveSessions(since: number): SessionSeen[] {
    return this.#sql.exec<{ sid: string; rendition: string; last_seen: number }>('SELECT sid, rendition, last_seen FROM sessions WHERE last_seen >= ?', since).toArray().map((r) => ({ sid: r.sid, rendition: r.rendition, lastSeen: r.last_seen }));
  }

  #applyMoves(moves: BucketMoves): void {
    for (const { second, rendition, delta } of moves.changes()) {
      const { n } = this.#sql
        .exec<{ n: number }>(
          `INSERT INTO session_buckets (second, rendition, n) VALUES (?, ?, ?)
           ON CONFLICT (second, rendition) DO UPDATE SET n = n + excluded.n RETURNING n`,
          second,
          rendition,
          delta,
        )
        .one();
      if (n === 0) this.#sql.exec('DELETE FROM session_buckets WHERE second = ? AND rendition = ?', second, rendition);
    }
  }

  /**
   * Viewers now: sessions seen at or after `now - windowMs`; total counts every session ever seen.
   * Whole seconds of the window are summed from their buckets; the part of a second the window
   * starts in (when `now - windowMs` is not on a second) is counted from the sessions whose last
   * poll fell in that part. The cost is the window's seconds times renditions, plus the sessions
   * last seen in that one part-second: viewers who stopped polling about a window ago (an active
   * viewer polls every target duration, a third of the window), so only an audience leaving all at
   * once makes it large, and only for that second.
   */
  counts(now: number, windowMs: number): ViewerCounts {
    const since = now - windowMs;
    const firstWhole = Math.ceil(since / BUCKET_MS);
    const renditions: Record<string, number> = {};
    let current = 0;
    for (const r of this.#sql.exec<{ rendition: string; n: number }>(
      `SELECT rendition, SUM(n) AS n FROM (
         SELECT rendition, n FROM session_buckets WHERE second >= ?
         UNION ALL
         SELECT rendition, 1 AS n FROM sessions WHERE last_seen >= ? AND last_seen < ?
       ) GROUP BY rendition ORDER BY rendition`,
      firstWhole,
      since,
      firstWhole * BUCKET_MS,
    )) {
      renditions[r.rendition] = r.n;
      current += r.n;
    }
    const row = this.#row();
    return { current, peak: Math.max(row.peak, current), total: row.pruned_sessions + row.known_sessions, renditions };
  }

  /** Raises the stored peak to `current`; returns the peak before. */
  raisePeak(current: number): number {
    const before = this.#row().peak;
    if (current > before) this.#sql.exec('UPDATE audience SET peak = ? WHERE singleton = 1', current);
    return before;
  }

  /**
   * Forgets sessions not seen since `before` (still counted in `total`); returns how many. Buckets
   * of whole seconds before it go at once; the second `before` falls in loses only its sessions
   * seen before `before`.
   */
  pruneSessions(before: number): number {
    const edge = bucketOf(before);
    const whole = this.#sql.exec<{ n: number }>('SELECT COALESCE(SUM(n), 0) AS n FROM session_buckets WHERE second < ?', edge).one().n;
    const moves = new BucketMoves();
    let n = whole;
    for (const r of this.#sql.exec<{ rendition: string; n: number }>(
      'SELECT rendition, COUNT(*) AS n FROM sessions WHERE last_seen >= ? AND last_seen < ? GROUP BY rendition',
      edge * BUCKET_MS,
      before,
    )) {
      moves.add(edge, r.rendition, -r.n);
      n += r.n;
    }
    if (n > 0) {
      this.#sql.exec('DELETE FROM sessions WHERE last_seen < ?', before);
      if (whole > 0) this.#sql.exec('DELETE FROM session_buckets WHERE second < ?', edge);
      this.#applyMoves(moves);
      this.#sql.exec('UPDATE audience SET pruned_sessions = pruned_sessions + ?, known_sessions = known_sessions - ? WHERE singleton = 1', n, n);
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
