import { env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { fleetAnalyticsSchema, streamAnalyticsSchema } from '../../../shared/src/analytics/analytics-query.ts';
import { okData } from '../../../shared/src/api/management-client.ts';
import { fleetAnalyticsStub } from '../analytics/fleet-analytics.ts';
import type { MinuteRollup } from '../analytics/minute-rollup.ts';
import { addStartup } from '../analytics/startup-histogram.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { admin, adminApi, awayFromMinuteEnd, BASE, createStream, json } from '../test-support/edge-client.ts';
import { emptyQoe } from '../viewers/viewer-batch.ts';
import { packBatch } from '../viewers/packed-batch.ts';

const M = 60_000;

function stub(id: string): DurableObjectStub<StreamDO> {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

/** A minute `back` minutes before the current one (distinct per test: the fleet object is shared). */
function minutesAgo(back: number): number {
  return Math.floor(Date.now() / M) * M - back * M;
}

async function errorOf(res: Response): Promise<[number, string, string]> {
  const body = await json<{ error: { code: string; message: string } }>(res);
  return [res.status, body.error.code, body.error.message];
}

describe('GET /v1/streams/:id/analytics and /v1/analytics: validation', () => {
  it('needs the admin token', async () => {
    const { id } = await createStream();
    for (const path of [`/v1/streams/${id}/analytics`, '/v1/analytics']) {
      expect((await SELF.fetch(`${BASE}${path}`)).status).toBe(401);
      expect((await admin('GET', path, undefined, 'wrong')).status).toBe(401);
    }
  });

  it('answers 400 naming the field for a bad time, step, empty range or too many points', async () => {
    const { id } = await createStream();
    const now = Date.now();
    for (const base of [`/v1/streams/${id}/analytics`, '/v1/analytics']) {
      expect(await errorOf(await admin('GET', `${base}?from=yesterday`))).toEqual([400, 'bad_request', 'from: must be ms since epoch or an ISO 8601 date-time with a zone']);
      expect(await errorOf(await admin('GET', `${base}?step=10m`))).toEqual([400, 'bad_request', 'step: Invalid option: expected one of "1m"|"5m"|"1h"|"1d"']);
      const [status, code, message] = await errorOf(await admin('GET', `${base}?from=${now + 3_600_000}`));
      expect([status, code]).toEqual([400, 'bad_request']);
      expect(message).toMatch(/^from: must be before to \(/);
      expect(await errorOf(await admin('GET', `${base}?from=${now - 2 * 86_400_000}`))).toEqual([400, 'bad_request', 'step: 2880 points of 1m from..to; at most 1440 (use a larger step or a shorter range)']);
    }
  });

  it('answers 404 for a stream that does not exist', async () => {
    expect((await errorOf(await admin('GET', '/v1/streams/abcdefghijklmnop/analytics')))[0]).toBe(404);
    expect((await errorOf(await admin('GET', '/v1/streams/not-an-id/analytics')))[1]).toBe('stream_not_found');
  });

  it('gives a new stream the last hour by the minute, all empty', async () => {
    const { id } = await createStream();
    // The answer is what the shared (strict) schema describes; the exact keys are asserted below.
    const body = streamAnalyticsSchema.parse(await okData(adminApi().GET('/v1/streams/{id}/analytics', { params: { path: { id } } })));
    expect(body.streamId).toBe(id);
    expect(body.step).toBe('1m');
    expect(body.to - body.from).toBe(3_600_000);
    expect(body.points).toHaveLength(60);
    expect(body.points[0]).toEqual({ t: body.from, currentViewers: 0, peakViewers: 0, uniqueViewers: 0, ingestKbps: null, startupP50Ms: null, rebufferRatio: null, errors: 0 });
    expect(body.points[59]!.t).toBe(body.to - M);
  });
});

describe('fleet totals', () => {
  it('sums the minutes two real streams push, at 1m and 5m', async () => {
    await awayFromMinuteEnd();
    const at = minutesAgo(30);
    const now = Date.now();
    const streams = [await createStream(), await createStream()];
    const sids = [['fleet-a-1', 'fleet-a-2', 'fleet-a-3'], ['fleet-b-1']];
    for (const [i, s] of streams.entries()) {
      const batch = { sessions: sids[i]!.map((sid) => ({ sid, rendition: '720p', lastSeen: now })), qoe: { ...emptyQoe(), errors: i + 1, playedMs: 1000 * (i + 1), rebufferMs: 1000 } };
      expect((await stub(s.id).recordViewers(packBatch(batch))).ok).toBe(true);
      // Back-date the open minute so the alarm closes it.
      await runInDurableObject(stub(s.id), (_o: StreamDO, state) => void state.storage.sql.exec('UPDATE analytics_open SET minute = ?', at));
      expect(await runDurableObjectAlarm(stub(s.id))).toBe(true);
    }
    await vi.waitFor(async () => {
      const body = await okData(adminApi().GET('/v1/analytics', { params: { query: { from: String(at), to: String(at + M) } } }));
      // 3 + 1 viewers; watch time 1 s + 2 s played, 2 s rebuffering: 2 / 5.
      expect(body.points).toEqual([{ t: at, currentViewers: 4, peakViewers: 4, uniqueViewers: 4, ingestKbps: null, startupP50Ms: null, rebufferRatio: 0.4, errors: 3, liveStreams: 0, activeStreams: 2 }]);
    });
  });

  it('counts a stream minute once however often it is pushed, and folds fleet minutes into steps', async () => {
    const step = Math.floor(minutesAgo(120) / (5 * M)) * 5 * M;
    const minute = (m: number, over: Partial<MinuteRollup>): MinuteRollup => ({ minute: m, currentViewers: 0, peakViewers: 0, uniqueViewers: 0, ingestKbps: null, startups: {}, playedMs: 0, rebufferMs: 0, errors: 0, liveStreams: 1, activeStreams: 1, ...over });
    const fleet = fleetAnalyticsStub(env);
    const a = [minute(step, { currentViewers: 10, peakViewers: 12, uniqueViewers: 15, ingestKbps: 3000, startups: addStartup({}, 1000) }), minute(step + M, { currentViewers: 8, peakViewers: 10, uniqueViewers: 9, ingestKbps: 3000 })];
    const b = [minute(step, { currentViewers: 5, peakViewers: 5, uniqueViewers: 5, ingestKbps: 1000, startups: addStartup(addStartup({}, 4000), 4000) }), minute(step + M, { currentViewers: 6, peakViewers: 7, uniqueViewers: 7, ingestKbps: null, liveStreams: 0 })];
    expect(await fleet.record('streamaaaaaaaaaa', a)).toBe(2);
    expect(await fleet.record('streambbbbbbbbbb', b)).toBe(2);
    // A retry after a lost acknowledgement changes nothing.
    expect(await fleet.record('streamaaaaaaaaaa', a)).toBe(0);
    const perMinute = fleetAnalyticsSchema.parse(await okData(adminApi().GET('/v1/analytics', { params: { query: { from: String(step), to: String(step + 2 * M) } } })));
    expect(perMinute.points).toEqual([
      // Startups 1000, 4000, 4000: the median is 4000's bucket (3922).
      { t: step, currentViewers: 15, peakViewers: 17, uniqueViewers: 20, ingestKbps: 4000, startupP50Ms: 3922, rebufferRatio: null, errors: 0, liveStreams: 2, activeStreams: 2 },
      { t: step + M, currentViewers: 14, peakViewers: 17, uniqueViewers: 16, ingestKbps: 3000, startupP50Ms: null, rebufferRatio: null, errors: 0, liveStreams: 1, activeStreams: 2 },
    ]);
    const fiveMinutes = await okData(adminApi().GET('/v1/analytics', { params: { query: { from: String(step + M), to: String(step + 5 * M), step: '5m' } } }));
    expect(fiveMinutes.from).toBe(step);
    // Current viewers at the step's end: its last minute (step + 4m) has no row.
    expect(fiveMinutes.points).toEqual([{ t: step, currentViewers: 0, peakViewers: 17, uniqueViewers: 36, ingestKbps: 3500, startupP50Ms: 3922, rebufferRatio: null, errors: 0, liveStreams: 2, activeStreams: 2 }]);
  });
});
