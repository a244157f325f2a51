/**
 * The Worker `npm run bench:audience` starts under workerd (bench/audience-counts-bench.ts): one
 * Durable Object per case, holding a StreamDO's audience tables, that seeds sessions and times
 * `AudienceStore` against the pre-bucket scan (edge/src/test-support/session-scan-reference.ts)
 * on the same rows. Timed inside the object with `performance.now()`, which workerd advances
 * during synchronous work when run locally (1 ms resolution, hence loops of many calls).
 *
 * Plain classes, not `cloudflare:workers`' DurableObject, so the root tsconfig (Node types plus
 * bench/workers-sql-globals.d.ts) type-checks this file.
 */
import { AudienceStore } from '../edge/src/stream-do/audience-store.ts';
import { dropSessionBuckets, SessionScanReference } from '../edge/src/test-support/session-scan-reference.ts';
import type { SessionSeen } from '../edge/src/viewers/viewer-batch.ts';

/** A case: how many sessions are current, and where their last polls sit. */
export interface AudienceCase {
  sessions: number;
  /**
   * `steady`: every current session polled within the last 2 s (target duration 2 s, window
   * 6 s), plus a tenth as many gone viewers last seen over the 10 minutes before;
   * `leaving`: every current session last polled in the part-second the window starts in (the
   * whole audience stopped together one window ago), the case the bucket sum scans.
   */
  layout: 'steady' | 'leaving';
}

/** What one case measured, in ms. */
export interface AudienceFigures {
  /** `migrate()` on the seeded table: the one-time build of an object stored before buckets. */
  migrateMs: number;
  scanCountsMs: number;
  bucketCountsMs: number;
  /** The two agree (current, total and every rendition). */
  equal: boolean;
  current: number;
  /** One session's upsert in a 1,000-session flush of sessions polling again. */
  scanUpsertMs: number;
  bucketUpsertMs: number;
}

interface DurableObjectStateLike {
  storage: { sql: SqlStorage };
}

interface Env {
  AUDIENCE_BENCH: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

/** `now` of every case: half a second past a second, so the window starts inside one. */
const NOW = Date.UTC(2026, 10, 30, 10) + 500;
const WINDOW_MS = 6000;
const FORGET_MS = 600_000;
const FLUSH = 1000;
/** Each timing loop runs at least this long and this many calls. */
const MIN_LOOP_MS = 500;
const MIN_CALLS = 5;

/** Mean ms of `fn` over a loop of at least MIN_CALLS calls and MIN_LOOP_MS. */
function timeMean(fn: () => void): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (calls < MIN_CALLS || elapsed < MIN_LOOP_MS) {
    fn();
    calls++;
    elapsed = performance.now() - start;
  }
  return elapsed / calls;
}

/**
 * Inserts the case's sessions with one recursive statement, as rows of the sessions table alone
 * (an object from before buckets). Session ids are spread like random ones, renditions
 * 20/40/20/20 % over 1080p/720p/480p/360p.
 */
function seed(sql: SqlStorage, c: AudienceCase): void {
  const since = NOW - WINDOW_MS;
  const partEnd = Math.ceil(since / 1000) * 1000;
  const lastSeen =
    c.layout === 'steady'
      ? `CASE WHEN x <= ${c.sessions} THEN ${NOW - 2000} + (x * 7919) % 2000 ELSE ${NOW - WINDOW_MS - FORGET_MS} + (x * 104729) % ${FORGET_MS} END`
      : `${since} + (x * 7919) % ${partEnd - since}`;
  const total = c.layout === 'steady' ? c.sessions + Math.floor(c.sessions / 10) : c.sessions;
  sql.exec(
    `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ${total})
     INSERT INTO sessions (sid, rendition, last_seen)
     SELECT printf('%08x%08x', (x * 2654435761) % 4294967296, x),
            CASE (x * 31) % 10 WHEN 0 THEN '1080p' WHEN 1 THEN '1080p' WHEN 2 THEN '480p' WHEN 3 THEN '480p'
                               WHEN 4 THEN '360p' WHEN 5 THEN '360p' ELSE '720p' END,
            ${lastSeen}
     FROM n`,
  );
}

/** A flush of FLUSH seeded sessions polling again at NOW, from the `from`-th seeded session on. */
function flush(from: number, step: number): SessionSeen[] {
  return Array.from({ length: FLUSH }, (_, i) => {
    const x = from + i * step;
    return { sid: `${((x * 2654435761) % 4294967296).toString(16).padStart(8, '0')}${x.toString(16).padStart(8, '0')}`, rendition: '720p', lastSeen: NOW };
  });
}

/** One case's tables and timings (one object per case, named by the driver). */
export class AudienceBench {
  readonly #sql: SqlStorage;

  constructor(state: DurableObjectStateLike) {
    this.#sql = state.storage.sql;
  }

  async fetch(request: Request): Promise<Response> {
    const c = (await request.json()) as AudienceCase;
    const store = new AudienceStore(this.#sql);
    store.migrate();
    seed(this.#sql, c);
    dropSessionBuckets(this.#sql);
    let t = performance.now();
    store.migrate();
    const migrateMs = performance.now() - t;

    const scan = new SessionScanReference(this.#sql, 'sessions');
    const want = scan.counts(NOW, WINDOW_MS);
    const got = store.counts(NOW, WINDOW_MS);
    const equal = got.current === want.current && got.total === want.total && JSON.stringify(got.renditions) === JSON.stringify(want.renditions);
    const scanCountsMs = timeMean(() => scan.counts(NOW, WINDOW_MS));
    const bucketCountsMs = timeMean(() => store.counts(NOW, WINDOW_MS));

    // Upserts last, one flush each in turn on sessions of their own: the scan's upsert leaves the
    // buckets behind, which the store never reads for those sessions. Session ids 1..sessions exist
    // in both layouts (2 x 4 flushes of 1,000 fit in the smallest case).
    const batches = 4;
    const step = Math.max(1, Math.floor(c.sessions / (2 * batches * FLUSH)));
    let bucketUpsertMs = 0;
    let scanUpsertMs = 0;
    for (let b = 0; b < batches; b++) {
      const mine = flush(1 + 2 * b * FLUSH * step, step);
      const theirs = flush(1 + (2 * b + 1) * FLUSH * step, step);
      t = performance.now();
      store.recordSessions(mine);
      bucketUpsertMs += (performance.now() - t) / (batches * FLUSH);
      t = performance.now();
      scan.recordSessions(theirs);
      scanUpsertMs += (performance.now() - t) / (batches * FLUSH);
    }

    // Every flushed session was a seeded one polling again (an update, not an insert).
    const after = scan.counts(NOW, WINDOW_MS).total;
    if (after !== want.total) throw new Error(`the flushes added ${after - want.total} sessions`);

    const figures: AudienceFigures = { migrateMs, scanCountsMs, bucketCountsMs, equal, current: got.current, scanUpsertMs, bucketUpsertMs };
    return Response.json(figures);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).searchParams.get('case') ?? 'default';
    return env.AUDIENCE_BENCH.get(env.AUDIENCE_BENCH.idFromName(name)).fetch(request);
  },
};
