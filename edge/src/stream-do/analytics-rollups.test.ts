import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import type { MinuteRollup } from '../analytics/minute-rollup.ts';
import { addStartup, type StartupHistogram } from '../analytics/startup-histogram.ts';
import { admin, awayFromMinuteEnd, createStream, json, liveStream, signed } from '../test-support/edge-client.ts';
import { emptyQoe } from '../viewers/viewer-batch.ts';
import { AnalyticsRollups, FLEET_RETRY_MS, PRUNE_SLACK_MS, type RollupDeps } from './analytics-rollups.ts';
import type { StreamDO } from './stream-do.ts';
import { packBatch } from '../viewers/packed-batch.ts';

const M = 60_000;
const DAYS_30 = 30 * 86_400_000;
/** A minute boundary: 2026-11-30T10:00:00Z. */
const T = Date.UTC(2026, 10, 30, 10);

function stub(id: string): DurableObjectStub<StreamDO> {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

function histogram(...ms: number[]): StartupHistogram {
  return ms.reduce((h, v) => addStartup(h, v), {} as StartupHistogram);
}

const session = (sid: string) => ({ sid, rendition: '720p', lastSeen: 0 });
const noBeacons = { startups: [], playedMs: 0, rebufferMs: 0, errors: 0 };

/** Runs `fn` on a fresh stream's storage with rollups whose viewers-at-end and fleet push the test controls. */
async function withRollups(fn: (r: AnalyticsRollups, seen: { currentAt: number[]; pushed: MinuteRollup[][] }, deps: RollupDeps) => Promise<void>, push?: RollupDeps['push']): Promise<void> {
  const { id } = await createStream();
  await runInDurableObject(stub(id), async (_o: StreamDO, state) => {
    const seen = { currentAt: [] as number[], pushed: [] as MinuteRollup[][] };
    const deps: RollupDeps = {
      retentionMs: DAYS_30,
      currentViewers: (at) => (seen.currentAt.push(at), 1),
      push: push ?? (async (minutes) => void seen.pushed.push(minutes)),
      servedAfterEndMs: () => 4000,
    };
    await fn(new AnalyticsRollups(state.storage.sql, deps), seen, deps);
  });
}

describe('AnalyticsRollups', () => {
  it('rolls a minute of heartbeats, viewer batches and beacons up when it closes, and pushes it to the fleet once', async () => {
    await withRollups(async (r, seen) => {
      expect(r.heartbeat(T + 1000, 2000)).toBe(true); // opens the minute
      expect(r.viewers(T + 2000, { sessions: [session('a'), session('b')], current: 2, startups: [{ sid: 'a', ms: 800 }], playedMs: 4000, rebufferMs: 0, errors: 0 })).toBe(false);
      r.heartbeat(T + 3000, 3000);
      // `a` again (one unique), a second startup from `a` ignored, `c` new.
      r.viewers(T + 30_000, { sessions: [session('a'), session('c')], current: 3, startups: [{ sid: 'a', ms: 60_000 }, { sid: 'c', ms: 1200 }], playedMs: 8000, rebufferMs: 2000, errors: 1 });
      r.viewers(T + 59_999, { sessions: [session('c')], current: 1, startups: [], playedMs: 1000, rebufferMs: 0, errors: 2 });
      expect(r.closeDue(T + 59_999)).toBeNull();
      const closed = r.closeDue(T + M + 500);
      const expected: MinuteRollup = { minute: T, currentViewers: 1, peakViewers: 3, uniqueViewers: 3, ingestKbps: 2500, startups: histogram(800, 1200), playedMs: 13_000, rebufferMs: 2000, errors: 3, liveStreams: 1, activeStreams: 1 };
      expect(closed).toEqual(expected);
      // Viewers at the minute's end, not at the (later) time it closed.
      expect(seen.currentAt).toEqual([T + M]);
      expect(r.closeDue(T + M + 600)).toBeNull();
      expect(r.read(T - M, T + 2 * M, T + M + 600)).toEqual([expected]);
      await r.pushPending(T + M + 600);
      await r.pushPending(T + M + 700);
      expect(seen.pushed).toEqual([[expected]]);
      // The next minute starts from zero.
      expect(r.viewers(T + M + 800, { sessions: [session('a')], current: 1, ...noBeacons })).toBe(true);
      expect(r.closeDue(T + 2 * M)).toMatchObject({ minute: T + M, peakViewers: 1, uniqueViewers: 1, ingestKbps: null, liveStreams: 0, errors: 0, startups: {} });
    });
  });

  it('writes nothing and wants no alarm for an idle, unwatched stream', async () => {
    await withRollups(async (r) => {
      expect(r.closeDue(T + 10 * M)).toBeNull();
      expect(r.read(0, T + 10 * M, T + 10 * M)).toEqual([]);
      const duty = r.duty();
      expect(duty.nextAlarmAt(T)).toBeNull();
      expect(duty.doneWith({} as never, T)).toBe(true);
    });
  });

  it('asks the alarm for the end of the open minute and closes it from the alarm', async () => {
    await withRollups(async (r, seen) => {
      r.heartbeat(T + 5000, 1000);
      const duty = r.duty();
      expect(duty.nextAlarmAt(T + 5000)).toBe(T + M);
      expect(duty.doneWith({} as never, T + 5000)).toBe(false);
      await duty.runAlarm({} as never, T + M + 10);
      expect(r.read(0, T + 2 * M, T + M + 10).map((m) => [m.minute, m.ingestKbps, m.liveStreams])).toEqual([[T, 1000, 1]]);
      await vi.waitFor(() => expect(seen.pushed).toHaveLength(1));
      // Only the pruning of the kept minute is left, an hour past retention.
      expect(duty.nextAlarmAt(T + M + 20)).toBe(T + DAYS_30 + PRUNE_SLACK_MS);
      expect(duty.doneWith({} as never, T + M + 20)).toBe(true);
    });
  });

  it("closes an ended stream's last minute early once nobody can watch it, so its expiry does not wait for the minute's end", async () => {
    await withRollups(async (r, seen) => {
      r.heartbeat(T + 5000, 1000);
      const duty = r.duty();
      const ended = { status: 'ended', ended_at: T + 6000 } as never;
      // Once it ends, the alarm is wanted when it is no longer served (4 s) plus the last batches' slack (2 s).
      duty.afterChange!(ended, T + 6000);
      expect(duty.nextAlarmAt(T + 6000)).toBe(T + 12_000);
      // Before that the minute stays open.
      await duty.runAlarm(ended, T + 11_000);
      expect(duty.doneWith(ended, T + 11_000)).toBe(false);
      // Past that: closed at once (partial, its viewers read at the close), pushed within the alarm.
      await duty.runAlarm(ended, T + 12_000);
      expect(seen.currentAt.at(-1)).toBe(T + 12_000);
      expect(seen.pushed.map((p) => p.map((m) => [m.minute, m.ingestKbps]))).toEqual([[[T, 1000]]]);
      expect(duty.doneWith(ended, T + 12_000)).toBe(true);
    });
  });

  it('sets the alarm again when a push the alarm did not wait for is over, so an ended stream expires without waiting for the retry', async () => {
    let release!: () => void;
    const inFlight = new Promise<void>((r) => (release = r));
    let rearmed = 0;
    await withRollups(
      async (r, _seen, deps) => {
        deps.rearm = () => void rearmed++;
        r.heartbeat(T, 1000);
        r.closeDue(T + M); // starts the push
        const duty = r.duty();
        // An alarm while the push is in flight: the minute is not taken yet, so it asks for the retry.
        await duty.runAlarm({ status: 'live', ended_at: null } as never, T + M + 100);
        expect(duty.nextAlarmAt(T + M + 100)).toBe(T + M + 100 + FLEET_RETRY_MS);
        expect(duty.doneWith({} as never, T + M + 100)).toBe(false);
        expect(rearmed).toBe(0);
        release();
        await r.pushPending(T + M + 200);
        expect(rearmed).toBe(1);
        expect(duty.doneWith({} as never, T + M + 200)).toBe(true);
        expect(duty.nextAlarmAt(T + M + 200)).not.toBe(T + M + 100 + FLEET_RETRY_MS);
      },
      async () => inFlight,
    );
  });

  it('keeps minutes the fleet refused and retries them from the alarm', async () => {
    let fail = true;
    const pushed: number[] = [];
    await withRollups(
      async (r) => {
        r.heartbeat(T, 1000);
        r.closeDue(T + M);
        await r.pushPending(T + M);
        const duty = r.duty();
        expect(duty.nextAlarmAt(T + M)).toBe(T + M + FLEET_RETRY_MS);
        expect(duty.doneWith({} as never, T + M)).toBe(false);
        fail = false;
        await r.pushPending(T + M + FLEET_RETRY_MS);
        expect(pushed).toEqual([T]);
        expect(duty.doneWith({} as never, T + M + FLEET_RETRY_MS)).toBe(true);
      },
      async (minutes) => {
        if (fail) throw new Error('fleet unreachable');
        pushed.push(...minutes.map((m) => m.minute));
      },
    );
  });

  it('prunes minutes past retention and never reads them', async () => {
    await withRollups(async (r) => {
      for (const at of [T, T + 5 * M]) {
        r.heartbeat(at, 1000);
        r.closeDue(at + M);
      }
      await r.pushPending(T + 6 * M);
      expect(r.read(0, T + DAYS_30 * 2, T + DAYS_30 + M).map((m) => m.minute)).toEqual([T + 5 * M]);
      expect(r.prune(T + DAYS_30 - 1)).toBe(0);
      expect(r.prune(T + DAYS_30 + M)).toBe(1);
      expect(r.duty().nextAlarmAt(T + DAYS_30 + M)).toBe(T + 5 * M + DAYS_30 + PRUNE_SLACK_MS);
      await r.duty().runAlarm({} as never, T + 5 * M + DAYS_30 + PRUNE_SLACK_MS);
      expect(r.read(0, T + DAYS_30 * 2, T)).toEqual([]);
      expect(r.duty().nextAlarmAt(T + 5 * M + DAYS_30 + PRUNE_SLACK_MS)).toBeNull();
    });
  });
});

describe('StreamDO analytics hooks', () => {
  it('rolls up heartbeats and viewer batches through the real object, closes the minute from its alarm and serves it', async () => {
    await awayFromMinuteEnd();
    const { id, epoch } = await liveStream();
    for (const kbps of [2000, 4000]) expect((await signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: kbps, fps: 30, speed: 1, droppedFrames: 0 } })).status).toBe(200);
    const now = Date.now();
    const batch = (sids: string[], qoe = {}) => ({ sessions: sids.map((sid) => ({ sid, rendition: '720p', lastSeen: now })), qoe: { ...emptyQoe(), ...qoe } });
    expect((await stub(id).recordViewers(packBatch(batch(['sess-aaaa', 'sess-bbbb'], { beacons: 1, startups: [{ sid: 'sess-aaaa', ms: 1000 }], playedMs: 9000, rebufferMs: 1000, errors: 1 })))).ok).toBe(true);
    expect((await stub(id).recordViewers(packBatch(batch(['sess-aaaa', 'sess-cccc'], { errors: 2 })))).ok).toBe(true);
    // The open minute asked for an alarm at its end at the latest.
    const { minute, alarm } = await runInDurableObject(stub(id), async (_o: StreamDO, state) => ({
      minute: state.storage.sql.exec<{ minute: number }>('SELECT minute FROM analytics_open').one().minute,
      alarm: await state.storage.getAlarm(),
    }));
    expect(minute).toBe(Math.floor(now / M) * M);
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(minute + M);
    // Move the open minute ten minutes back so the alarm finds it over.
    const past = minute - 10 * M;
    await runInDurableObject(stub(id), (_o: StreamDO, state) => void state.storage.sql.exec('UPDATE analytics_open SET minute = ?', past));
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    const res = await admin('GET', `/v1/streams/${id}/analytics?from=${past}&to=${past + M}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      streamId: id,
      from: past,
      to: past + M,
      step: '1m',
      points: [{ t: past, currentViewers: 3, peakViewers: 3, uniqueViewers: 3, ingestKbps: 3000, startupP50Ms: 981, rebufferRatio: 0.1, errors: 3 }],
    });
    // The fleet got the minute from the object's push.
    await vi.waitFor(async () => {
      const fleet = await json<{ points: unknown[] }>(await admin('GET', `/v1/analytics?from=${past}&to=${past + M}`));
      expect(fleet.points).toEqual([{ t: past, currentViewers: 3, peakViewers: 3, uniqueViewers: 3, ingestKbps: 3000, startupP50Ms: 981, rebufferRatio: 0.1, errors: 3, liveStreams: 1, activeStreams: 1 }]);
    });
  });

  it('opens no minute for a stream nobody publishes or watches', async () => {
    const { id } = await createStream();
    const rows = await runInDurableObject(stub(id), (_o: StreamDO, state) => state.storage.sql.exec<{ n: number }>('SELECT (SELECT COUNT(*) FROM analytics_open) + (SELECT COUNT(*) FROM analytics_minutes) AS n').one().n);
    expect(rows).toBe(0);
    // The only alarm is the event log's prune, days away.
    expect(await runInDurableObject(stub(id), (_o: StreamDO, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now() + 86_400_000);
  });
});
