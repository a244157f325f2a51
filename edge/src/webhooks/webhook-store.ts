/** The SQL behind the WebhookHub: endpoints, messages, deliveries (one message to one endpoint) and their attempts. */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS endpoints (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER,
  disabled_reason TEXT
);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  event_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  UNIQUE (endpoint_id, message_id)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_by_endpoint ON deliveries (endpoint_id, seq);
CREATE TABLE IF NOT EXISTS attempts (
  delivery_seq INTEGER NOT NULL,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  next_retry_at INTEGER,
  PRIMARY KEY (delivery_seq, n)
) WITHOUT ROWID;
`;

/** One `endpoints` row; `events` is a JSON array. */
export interface EndpointRow extends Record<string, SqlStorageValue> {
  id: string;
  url: string;
  events: string;
  secret: string;
  created_at: number;
  disabled_at: number | null;
  disabled_reason: string | null;
}

/** One `deliveries` row with its message's type and event time. */
export interface DeliveryRow extends Record<string, SqlStorageValue> {
  seq: number;
  endpoint_id: string;
  message_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
  finished_at: number | null;
  type: string;
  event_at: number;
}

/** A delivery due for an attempt, with what the attempt needs. */
export interface DueDelivery extends Record<string, SqlStorageValue> {
  seq: number;
  attempts: number;
  created_at: number;
  message_id: string;
  body: string;
  endpoint_id: string;
  url: string;
  secret: string;
}

/** One `attempts` row. */
export interface AttemptRow extends Record<string, SqlStorageValue> {
  delivery_seq: number;
  n: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  next_retry_at: number | null;
}

/** What one attempt found and what follows it. */
export interface AttemptRecord {
  at: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The delivery's status after this attempt. */
  status: DeliveryRow['status'];
  /** When the next attempt is due (status `pending`), else null. */
  nextAttemptAt: number | null;
}

/** The WebhookHub's tables; no policy (the hub decides what is due and what follows an attempt). */
export class WebhookStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Creates the tables if they are missing. */
  migrate(): void {
    this.#sql.exec(SCHEMA);
  }

  /** Stores a new endpoint. */
  insertEndpoint(e: { id: string; url: string; events: readonly string[]; secret: string; createdAt: number }): void {
    this.#sql.exec('INSERT INTO endpoints (id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)', e.id, e.url, JSON.stringify(e.events), e.secret, e.createdAt);
  }

  /** Every endpoint, oldest first. */
  endpoints(): EndpointRow[] {
    return this.#sql.exec<EndpointRow>('SELECT * FROM endpoints ORDER BY created_at, id').toArray();
  }

  /** One endpoint, or null. */
  endpoint(id: string): EndpointRow | null {
    return this.#sql.exec<EndpointRow>('SELECT * FROM endpoints WHERE id = ?', id).toArray()[0] ?? null;
  }

  /** Deletes an endpoint with its deliveries and their attempts; false when there was none. */
  deleteEndpoint(id: string): boolean {
    this.#sql.exec('DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE endpoint_id = ?)', id);
    this.#sql.exec('DELETE FROM deliveries WHERE endpoint_id = ?', id);
    return this.#sql.exec('DELETE FROM endpoints WHERE id = ?', id).rowsWritten > 0;
  }

  /** Stops deliveries to an endpoint (it answered 410 Gone): its pending ones fail now. */
  disableEndpoint(id: string, now: number, reason: string): void {
    this.#sql.exec('UPDATE endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ? AND disabled_at IS NULL', now, reason, id);
    this.#sql.exec("UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, finished_at = ? WHERE endpoint_id = ? AND status = 'pending'", now, id);
  }

  /** Stores a message unless one with its id is already kept (a repeated hand-over). */
  insertMessage(m: { id: string; type: string; eventAt: number; body: string; createdAt: number }): void {
    this.#sql.exec('INSERT OR IGNORE INTO messages (id, type, event_at, body, created_at) VALUES (?, ?, ?, ?, ?)', m.id, m.type, m.eventAt, m.body, m.createdAt);
  }

  /** Queues a message for an endpoint, due at once; false when it was already queued. */
  insertDelivery(endpointId: string, messageId: string, now: number): boolean {
    // RETURNING yields no row when the conflict clause skipped the insert (rowsWritten counts index work too).
    const inserted = this.#sql.exec(
      "INSERT INTO deliveries (endpoint_id, message_id, status, next_attempt_at, created_at) VALUES (?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
      endpointId,
      messageId,
      now,
      now,
    );
    return inserted.toArray().length > 0;
  }

  /** Pending deliveries due by `now`, earliest first. */
  dueDeliveries(now: number, limit: number): DueDelivery[] {
    return this.#sql
      .exec<DueDelivery>(
        `SELECT d.seq, d.attempts, d.created_at, d.message_id, m.body, e.id AS endpoint_id, e.url, e.secret
           FROM deliveries d JOIN messages m ON m.id = d.message_id JOIN endpoints e ON e.id = d.endpoint_id
          WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`,
        now,
        limit,
      )
      .toArray();
  }

  /** When the earliest pending delivery is due, or null. */
  nextDueAt(): number | null {
    return this.#sql.exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'pending'").one().at;
  }

  /** Keeps an attempt and moves its delivery on (next time, succeeded or failed). */
  recordAttempt(seq: number, n: number, a: AttemptRecord): void {
    this.#sql.exec(
      'INSERT OR REPLACE INTO attempts (delivery_seq, n, at, status_code, error, duration_ms, next_retry_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      seq,
      n,
      a.at,
      a.statusCode,
      a.error,
      a.durationMs,
      a.nextAttemptAt,
    );
    this.#sql.exec(
      'UPDATE deliveries SET attempts = ?, status = ?, next_attempt_at = ?, finished_at = ? WHERE seq = ?',
      n,
      a.status,
      a.nextAttemptAt,
      a.status === 'pending' ? null : a.at,
      seq,
    );
  }

  /** An endpoint's deliveries, newest first, below `beforeSeq` when given. */
  deliveries(endpointId: string, limit: number, beforeSeq?: number): DeliveryRow[] {
    return this.#sql
      .exec<DeliveryRow>(
        `SELECT d.*, m.type, m.event_at FROM deliveries d JOIN messages m ON m.id = d.message_id
          WHERE d.endpoint_id = ? AND d.seq < ? ORDER BY d.seq DESC LIMIT ?`,
        endpointId,
        beforeSeq ?? Number.MAX_SAFE_INTEGER,
        limit,
      )
      .toArray();
  }

  /** The attempts of deliveries `first`..`last` (a page's seq range), in order. */
  attempts(first: number, last: number): AttemptRow[] {
    return this.#sql.exec<AttemptRow>('SELECT * FROM attempts WHERE delivery_seq BETWEEN ? AND ? ORDER BY delivery_seq, n', first, last).toArray();
  }

  /**
   * Forgets finished deliveries older than `before` and, past that, the oldest finished ones beyond
   * `maxDeliveries`; then attempts and messages nothing refers to. Returns the deliveries removed.
   */
  prune(before: number, maxDeliveries: number): number {
    let removed = this.#sql.exec("DELETE FROM deliveries WHERE status != 'pending' AND created_at < ? RETURNING seq", before).toArray().length;
    const { n } = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM deliveries').one();
    if (n > maxDeliveries) {
      removed += this.#sql
        .exec("DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE status != 'pending' ORDER BY seq LIMIT ?) RETURNING seq", n - maxDeliveries)
        .toArray().length;
    }
    if (removed > 0) this.#sql.exec('DELETE FROM attempts WHERE delivery_seq NOT IN (SELECT seq FROM deliveries)');
    this.#sql.exec('DELETE FROM messages WHERE created_at < ? AND id NOT IN (SELECT message_id FROM deliveries)', before);
    return removed;
  }

  /** Rows kept (retention tests and operators). */
  rowCounts(): { messages: number; deliveries: number; attempts: number } {
    return this.#sql
      .exec<{ messages: number; deliveries: number; attempts: number }>(
        'SELECT (SELECT COUNT(*) FROM messages) AS messages, (SELECT COUNT(*) FROM deliveries) AS deliveries, (SELECT COUNT(*) FROM attempts) AS attempts',
      )
      .one();
  }
}
