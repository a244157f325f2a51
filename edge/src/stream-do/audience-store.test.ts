import { env, runInDurableObject } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dropSessionBuckets, SessionScanReference } from '../test-support/session-scan-reference.ts';
import type { SessionSeen } from '../viewers/viewer-batch.ts';
import { AudienceStore } from './audience-store.ts';
import type { StreamDO } from './stream-do.ts';

/** On a second: 2026-11-30T10:00:00Z. */
const T = Date.UTC(2026, 10, 30, 10);
const AUDIENCE_TABLES = ['audience', 'sessions', 'session_buckets', 'startup_samples', 'startup_sessions', 'ref_sessions'];

/** Runs `fn` on the SQLite of a StreamDO that holds no stream, so only the test writes to it. */
async function withSql(fn: (sql: SqlStorage) => void): Promise<void> {
  await runInDurableObject(env.STREAM_DO.get(env.STREAM_DO.newUniqueId()), async (_o: StreamDO, state) => fn(state.storage.sql));
}

/** An empty, migrated AudienceStore and the pre-bucket reference beside it (in table `ref_sessions`). */
function fresh(sql: SqlStorage): { store: AudienceStore; ref: SessionScanReference } {
  for (const t of AUDIENCE_TABLES) sql.exec(`DROP TABLE IF EXISTS ${t}`);
  const store = new AudienceStore(sql);
  store.migrate();
  return { store, ref: new SessionScanReference(sql, 'ref_sessions') };
}

const seen = (sid: string, rendition: string, lastSeen: number): SessionSeen => ({ sid, rendition, lastSeen });

/** The sessions table's rows, and the buckets as they must be for those rows. */
function bucketsAndTheirSessions(sql: SqlStorage) {
  return {
    buckets: sql.exec('SELECT second, rendition, n FROM session_buckets ORDER BY second, rendition').toArray(),
    fromSessions: sql.exec('SELECT last_seen / 1000 AS second, rendition, COUNT(*) AS n FROM sessions GROUP BY 1, 2 ORDER BY 1, 2').toArray(),
  };
}

describe('AudienceStore viewer counts', () => {
  it('counts a session seen at the start of the window, not one seen a millisecond before it', async () => {
    await withSql((sql) => {
      const { store } = fresh(sql);
      // The window starts at T + 2400, inside a second.
      store.recordSessions([seen('a', '720p', T + 2399), seen('b', '720p', T + 2400), seen('c', '360p', T + 2999), seen('d', '360p', T + 3000), seen('e', '1080p', T + 8400)]);
      expect(store.counts(T + 8400, 6000)).toEqual({ current: 4, peak: 4, total: 5, renditions: { '1080p': 1, '360p': 2, '720p': 1 } });
      // On a second: the whole of T + 2000's second is in the window.
      expect(store.counts(T + 8000, 6000)).toEqual({ current: 5, peak: 5, total: 5, renditions: { '1080p': 1, '360p': 2, '720p': 2 } });
      expect(store.counts(T + 9000, 6000)).toEqual({ current: 2, peak: 2, total: 5, renditions: { '1080p': 1, '360p': 1 } });
    });
  });

  it('keeps a session at its latest poll: an older poll arriving late moves neither its time nor its rendition', async () => {
    await withSql((sql) => {
      const { store } = fresh(sql);
      store.recordSessions([seen('a', '720p', T + 5000)]);
      store.recordSessions([seen('a', '360p', T + 1000)]);
      expect(store.counts(T + 6000, 2000)).toEqual({ current: 1, peak: 1, total: 1, renditions: { '720p': 1 } });
      // A poll at the same millisecond takes the rendition it names.
      store.recordSessions([seen('a', '1080p', T + 5000), seen('b', '360p', T + 5500), seen('b', '720p', T + 5600)]);
      expect(store.counts(T + 6000, 2000)).toEqual({ current: 2, peak: 2, total: 2, renditions: { '1080p': 1, '720p': 1 } });
      expect(bucketsAndTheirSessions(sql).buckets).toEqual([{ second: (T + 5000) / 1000, rendition: '1080p', n: 1 }, { second: (T + 5000) / 1000, rendition: '720p', n: 1 }]);
    });
  });

  it('forgets sessions seen before the cutoff, inside the cutoff second too, and still counts them in the total', async () => {
    await withSql((sql) => {
      const { store } = fresh(sql);
      store.recordSessions([seen('a', '720p', T + 1000), seen('b', '720p', T + 2100), seen('c', '360p', T + 2499), seen('d', '720p', T + 2500), seen('e', '720p', T + 2900)]);
      expect(store.pruneSessions(T + 2500)).toBe(3);
      expect(store.counts(T + 3000, 10_000)).toEqual({ current: 2, peak: 2, total: 5, renditions: { '720p': 2 } });
      expect(bucketsAndTheirSessions(sql).buckets).toEqual([{ second: (T + 2000) / 1000, rendition: '720p', n: 2 }]);
      expect(store.pruneSessions(T + 2500)).toBe(0);
      // A pruned session that comes back is a new session.
      store.recordSessions([seen('a', '720p', T + 3000)]);
      expect(store.counts(T + 3000, 10_000)).toMatchObject({ current: 3, total: 6 });
    });
  });

  it('records a flush of thousands of polls, some of one session, as upserts one by one would', async () => {
    await withSql((sql) => {
      const { store, ref } = fresh(sql);
      const renditions = ['1080p', '720p', '360p'];
      // 2,100 sessions, 400 of them polled twice in the flush (the second poll older for half of
      // them), and 300 already stored: more polls than one statement takes.
      const first = Array.from({ length: 300 }, (_, i) => seen(`s${i}`, '720p', T + 3000 + i));
      store.recordSessions(first);
      ref.recordSessions(first);
      const flush = Array.from({ length: 2100 }, (_, i) => seen(`s${i}`, renditions[i % 3]!, T + 1000 + 3 * i));
      for (let i = 0; i < 400; i++) flush.push(seen(`s${i * 5}`, renditions[(i + 1) % 3]!, T + 1000 + 15 * i + (i % 2 === 0 ? 7 : -7)));
      store.recordSessions(flush);
      ref.recordSessions(flush);
      for (const now of [T + 5000, T + 5500, T + 6801, T + 8000]) expect(store.counts(now, 4000)).toEqual(ref.counts(now, 4000));
      expect(store.counts(T + 8000, 8000)).toMatchObject({ current: 2100, total: 2100 });
      const { buckets, fromSessions } = bucketsAndTheirSessions(sql);
      expect(buckets).toEqual(fromSessions);
    });
  });

  it('builds the buckets and the session count of an object stored before them, once', async () => {
    await withSql((sql) => {
      const { store, ref } = fresh(sql);
      const batch = [seen('a', '720p', T + 1200), seen('b', '360p', T + 1700), seen('c', '720p', T + 4100), seen('d', '720p', T + 900)];
      store.recordSessions(batch);
      ref.recordSessions(batch);
      expect(store.pruneSessions(T + 1000)).toBe(ref.pruneSessions(T + 1000));
      dropSessionBuckets(sql);
      store.migrate();
      expect(store.counts(T + 5000, 4000)).toEqual(ref.counts(T + 5000, 4000));
      expect(store.counts(T + 5000, 4000)).toEqual({ current: 3, peak: 3, total: 4, renditions: { '360p': 1, '720p': 2 } });
      // Built once: a second migrate() leaves the buckets as they are, even a damaged one.
      sql.exec('UPDATE session_buckets SET n = 7 WHERE rendition = ?', '360p');
      store.migrate();
      expect(store.counts(T + 5000, 4000).renditions).toEqual({ '360p': 7, '720p': 2 });
      // A build cut short (the count still NULL) starts again from the sessions table.
      sql.exec('UPDATE audience SET known_sessions = NULL');
      store.migrate();
      expect(store.counts(T + 5000, 4000)).toEqual(ref.counts(T + 5000, 4000));
    });
  });
});

type Op =
  | { kind: 'record'; sessions: SessionSeen[] }
  | { kind: 'prune'; before: number }
  | { kind: 'count'; now: number; windowMs: number }
  | { kind: 'upgrade' };

/** Times over 20 s, often on a second or a millisecond either side of one, where buckets split. */
const at = fc.oneof(
  fc.integer({ min: 0, max: 20_000 }),
  fc.integer({ min: 0, max: 20 }).chain((s) => fc.constantFrom(s * 1000 - 1, s * 1000, s * 1000 + 1)),
).map((d) => T + d);
const session = fc.record({ sid: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), rendition: fc.constantFrom('1080p', '720p', '360p', 'audio'), lastSeen: at });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('record' as const), sessions: fc.array(session, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), before: at }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('count' as const), now: at, windowMs: fc.oneof(fc.constantFrom(0, 1000, 6000, 18_000), fc.integer({ min: 0, max: 12_000 })) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'upgrade' as const }) },
);

describe('AudienceStore against the pre-bucket scan (fast-check)', () => {
  it('counts, prunes and keeps sessions exactly as the scan did, over any order of polls', async () => {
    await withSql((sql) => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
          const { store, ref } = fresh(sql);
          for (const o of ops) {
            if (o.kind === 'record') {
              store.recordSessions(o.sessions);
              ref.recordSessions(o.sessions);
            } else if (o.kind === 'prune') {
              expect(store.pruneSessions(o.before)).toBe(ref.pruneSessions(o.before));
            } else if (o.kind === 'count') {
              const got = store.counts(o.now, o.windowMs);
              const want = ref.counts(o.now, o.windowMs);
              expect(got).toEqual(want);
              // The feed lists renditions in this order.
              expect(Object.keys(got.renditions)).toEqual(Object.keys(want.renditions));
              expect(store.raisePeak(got.current)).toBe(ref.raisePeak(want.current));
            } else {
              // An object stored before buckets, waking on the new code.
              dropSessionBuckets(sql);
              store.migrate();
            }
            expect(sql.exec('SELECT * FROM sessions ORDER BY sid').toArray()).toEqual(sql.exec('SELECT * FROM ref_sessions ORDER BY sid').toArray());
            const { buckets, fromSessions } = bucketsAndTheirSessions(sql);
            expect(buckets).toEqual(fromSessions);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
