/**
 * Test and bench reference: viewer sessions kept and counted as AudienceStore did before session
 * buckets (issue 14): one upsert per poll, and a scan of every current session per count.
 */
import type { ViewerCounts } from '../../../shared/src/feed/feed-messages.ts';
import type { SessionSeen } from '../viewers/viewer-batch.ts';

/** The pre-bucket sessions table, its upsert, prune and counting queries, over a table of its own. */
export class SessionScanReference {
  readonly #sql: SqlStorage;
  readonly #table: string;
  #pruned = 0;
  #peak = 0;

  /** Keeps sessions in `table`, created as the sessions table was if it is missing. */
  constructor(sql: SqlStorage, table: string) {
    this.#sql = sql;
    this.#table = table;
    sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      sid TEXT PRIMARY KEY,
      rendition TEXT NOT NULL,
      last_seen INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS ${table}_by_last_seen ON ${table} (last_seen);`);
  }

  /** The old upsert: a session keeps its latest poll and the rendition of that poll. */
  recordSessions(sessions: readonly SessionSeen[]): void {
    for (const s of sessions) {
      this.#sql.exec(
        `INSERT INTO ${this.#table} (sid, rendition, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (sid) DO UPDATE SET
           rendition = CASE WHEN excluded.last_seen >= last_seen THEN excluded.rendition ELSE rendition END,
           last_seen = MAX(last_seen, excluded.last_seen)`,
        s.sid,
        s.rendition,
        s.lastSeen,
      );
    }
  }

  /** The old counts: every session seen since `now - windowMs`, grouped by rendition, and a count of the table. */
  counts(now: number, windowMs: number): ViewerCounts {
    const renditions: Record<string, number> = {};
    let current = 0;
    for (const r of this.#sql.exec<{ rendition: string; n: number }>(
      `SELECT rendition, COUNT(*) AS n FROM ${this.#table} WHERE last_seen >= ? GROUP BY rendition ORDER BY rendition`,
      now - windowMs,
    )) {
      renditions[r.rendition] = r.n;
      current += r.n;
    }
    const known = this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${this.#table}`).one().n;
    return { current, peak: Math.max(this.#peak, current), total: this.#pruned + known, renditions };
  }

  /** Raises the peak to `current`; returns the peak before. */
  raisePeak(current: number): number {
    const before = this.#peak;
    this.#peak = Math.max(before, current);
    return before;
  }

  /** The old prune: counts and deletes the sessions seen before `before`. */
  pruneSessions(before: number): number {
    const n = this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${this.#table} WHERE last_seen < ?`, before).one().n;
    this.#sql.exec(`DELETE FROM ${this.#table} WHERE last_seen < ?`, before);
    this.#pruned += n;
    return n;
  }
}

/** Takes an AudienceStore's tables back to how an object stored before session buckets has them. */
export function dropSessionBuckets(sql: SqlStorage): void {
  sql.exec('DROP TABLE session_buckets');
  sql.exec('ALTER TABLE audience DROP COLUMN known_sessions');
}
