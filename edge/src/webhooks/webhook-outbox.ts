/**
 * The StreamDO's side of webhooks: hands the stream's webhook-worthy log events to the WebhookHub
 * after they commit, without the stream ever waiting on it. The log itself is the outbox: a cursor
 * (`handed_seq`) says how far the hub has acknowledged; a failed hand-over is retried from the
 * StreamDO's alarm with backoff, and after a restart, so every event reaches the hub at least once
 * (the hub drops repeats by message id).
 */
import type { StreamEvent } from '../../../shared/src/feed/feed-messages.ts';
import type { EventRow, StreamRow } from '../stream-do/stream-schema.ts';
import type { UpkeepDuty } from '../stream-do/stream-upkeep.ts';
import { WEBHOOK_TYPE_OF_LOG_EVENT, webhookEventOf, type WebhookEvent } from './webhook-events.ts';

/** Log rows read per hand-over round. */
const PAGE = 100;
/** Longest wait between two hand-over retries. */
const MAX_HANDOVER_RETRY_MS = 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_handover (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  handed_seq INTEGER NOT NULL,
  retry_at INTEGER,
  failures INTEGER NOT NULL DEFAULT 0
);
`;

/** The wait before hand-over retry number `failures`: 1 s, 2 s, 4 s … at most a minute. Pure. */
export function handoverRetryMs(failures: number): number {
  return Math.min(1000 * 2 ** Math.max(0, failures - 1), MAX_HANDOVER_RETRY_MS);
}

/** Where hand-overs go (the WebhookHub's `accept`; an object literal in unit tests). */
export interface WebhookSink {
  accept(events: readonly WebhookEvent[]): Promise<number>;
}

/** What the outbox reads of the stream (the StreamStore). */
export interface OutboxSource {
  stream(): StreamRow | null;
  events(since: number, limit: number): EventRow[];
}

/** What the outbox needs of the StreamDO. */
export interface OutboxDeps {
  sql: SqlStorage;
  source: OutboxSource;
  /**
   * Re-arms the stream's one alarm from every duty (StreamUpkeep.afterChange), after a failed
   * hand-over set its retry time. Not set here directly: the upkeep computes and sets the alarm in
   * one step, so the latest state always wins over a concurrent re-arm that saw the hand-over in flight.
   */
  rearm: () => Promise<void>;
  /** The hub, looked up per hand-over. */
  sink: () => WebhookSink;
}

interface HandoverRow extends Record<string, SqlStorageValue> {
  handed_seq: number;
  retry_at: number | null;
  failures: number;
}

/** One StreamDO's webhook hand-over: an alarm duty of the stream (retries), fed by every committed write. */
export class WebhookOutbox implements UpkeepDuty {
  readonly #d: OutboxDeps;
  #ready = false;
  /** The hand-over in progress, and whether events committed while it ran. */
  #running: Promise<void> | null = null;
  #again = false;
  /** True while a call to the hub is out: its retry time, if any, is not due then. */
  #calling = false;

  constructor(deps: OutboxDeps) {
    this.#d = deps;
  }

  /**
   * Creates the cursor row. A stream that existed before webhooks starts past its current log (no
   * replay of old events); a new one (empty log) starts at 0. A hand-over left unfinished by a
   * restart starts again.
   */
  migrate(): void {
    this.#d.sql.exec(SCHEMA);
    this.#d.sql.exec('INSERT OR IGNORE INTO webhook_handover (singleton, handed_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events');
    this.#ready = true;
    if (this.#pending()) this.#kick();
  }

  /** A write committed these events: hand over the webhook-worthy ones now, in the background. */
  committed(events: readonly StreamEvent[]): void {
    if (events.some((e) => WEBHOOK_TYPE_OF_LOG_EVENT[e.type] !== undefined)) this.#kick();
  }

  /** Nothing to do after a change: `committed` already saw its events. */
  afterChange(): void {}

  /** A failed hand-over whose retry is due goes again (in the background: the stream's alarm does not wait). */
  async runAlarm(_row: StreamRow, now: number): Promise<void> {
    const row = this.#row();
    if (row?.retry_at != null && row.retry_at <= now) this.#kick();
  }

  /** The retry time of a failed hand-over; none while one is in flight (it re-arms itself if it fails). */
  nextAlarmAt(): number | null {
    if (this.#calling) return null;
    return this.#row()?.retry_at ?? null;
  }

  /** An ended stream may expire once no hand-over is owed. */
  doneWith(): boolean {
    return (this.#row()?.retry_at ?? null) === null;
  }

  /** Resolves when the hand-over in flight (if any) is over; for tests. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #row(): HandoverRow | null {
    if (!this.#ready) return null;
    try {
      return this.#d.sql.exec<HandoverRow>('SELECT handed_seq, retry_at, failures FROM webhook_handover').toArray()[0] ?? null;
    } catch {
      return null; // the stream was purged (deleteAll) under us
    }
  }

  /** Whether a failed hand-over is waiting or logged events past the cursor still need one. */
  #pending(): boolean {
    const row = this.#row();
    if (!row) return false;
    return row.retry_at !== null || this.#d.source.events(row.handed_seq, PAGE).some((e) => WEBHOOK_TYPE_OF_LOG_EVENT[e.type] !== undefined);
  }

  #kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#handOverAll()
      .catch((err: unknown) => console.error(`stream ${this.#d.source.stream()?.id ?? '?'}: webhook hand-over bookkeeping failed`, err))
      .finally(() => (this.#running = null));
  }

  async #handOverAll(): Promise<void> {
    do {
      this.#again = false;
      this.#calling = true;
      try {
        await this.#handOver();
        this.#calling = false;
        this.#d.sql.exec('UPDATE webhook_handover SET retry_at = NULL, failures = 0');
      } catch (err) {
        this.#calling = false;
        const row = this.#row();
        if (!row) return;
        const failures = row.failures + 1;
        const at = Date.now() + handoverRetryMs(failures);
        console.error(`stream ${this.#d.source.stream()?.id ?? '?'}: webhook hand-over failed (${failures}), retrying at ${new Date(at).toISOString()}`, err);
        this.#d.sql.exec('UPDATE webhook_handover SET retry_at = ?, failures = ?', at, failures);
        await this.#d.rearm();
        return;
      }
    } while (this.#again);
  }

  /** Every webhook-worthy event past the cursor, in pages; the cursor moves only past what the hub took. */
  async #handOver(): Promise<void> {
    for (;;) {
      const row = this.#row();
      const streamId = this.#d.source.stream()?.id;
      if (!row || streamId === undefined) return;
      const rows = this.#d.source.events(row.handed_seq, PAGE);
      if (rows.length === 0) return;
      const events = rows.map((r) => webhookEventOf(streamId, { seq: r.seq, ts: r.ts, type: r.type, data: JSON.parse(r.data) as Record<string, unknown> })).filter((e) => e !== null);
      if (events.length > 0) await this.#d.sink().accept(events);
      this.#d.sql.exec('UPDATE webhook_handover SET handed_seq = MAX(handed_seq, ?)', rows.at(-1)!.seq);
      if (rows.length < PAGE) return;
    }
  }
}
