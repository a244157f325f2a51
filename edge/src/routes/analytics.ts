/** `GET /v1/streams/:id/analytics` and `GET /v1/analytics` (bearer ADMIN_TOKEN): per-minute history of a stream and of the fleet. */
import { Hono, type Context } from 'hono';
import { analyticsQuerySchema, analyticsRange, type AnalyticsRange, type FleetAnalytics, type FleetAnalyticsPoint, type StreamAnalytics, type StreamAnalyticsPoint } from '../../../shared/src/analytics/analytics-query.ts';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { fleetAnalyticsStub } from '../analytics/fleet-analytics.ts';
import type { AppEnv } from '../app-env.ts';
import { zodErrorMessage } from '../http/zod-error-message.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';

/** The range the request's query asks for; 400 `bad_request` naming the field otherwise. */
function requestRange(c: Context<AppEnv>): AnalyticsRange {
  const parsed = analyticsQuerySchema.safeParse(c.req.query());
  if (!parsed.success) throw new EdgeliveError('bad_request', zodErrorMessage(parsed.error, 'query'));
  const range = analyticsRange(parsed.data, Date.now());
  if ('error' in range) throw new EdgeliveError('bad_request', range.error);
  return range;
}

/** The answer's `from`: the start of the first step. */
function firstStep(range: AnalyticsRange): number {
  return Math.floor(range.from / range.stepMs) * range.stepMs;
}

/** A stream's point: the fleet point without the stream counts. */
function streamPoint({ liveStreams: _live, activeStreams: _active, ...point }: FleetAnalyticsPoint): StreamAnalyticsPoint {
  return point;
}

/** Mounted at `/v1`, before the management routes. */
export const analyticsRoutes = new Hono<AppEnv>();

analyticsRoutes.use('/streams/:id/analytics', adminAuth);
analyticsRoutes.use('/analytics', adminAuth);

analyticsRoutes.get('/streams/:id/analytics', async (c) => {
  const id = c.req.param('id');
  const range = requestRange(c);
  const points = unwrap(await streamStub(c.env, id).analytics(range));
  return c.json({ streamId: id, from: firstStep(range), to: range.to, step: range.step, points: points.map(streamPoint) } satisfies StreamAnalytics);
});

analyticsRoutes.get('/analytics', async (c) => {
  const range = requestRange(c);
  const points = await fleetAnalyticsStub(c.env).history(range);
  return c.json({ from: firstStep(range), to: range.to, step: range.step, points } satisfies FleetAnalytics);
});
