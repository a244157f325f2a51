/** The query and answer of the analytics history routes (`GET /v1/streams/:id/analytics`, `GET /v1/analytics`). */
import * as z from 'zod';

/** One minute in ms: the resolution rollups are kept at. */
export const MINUTE_MS = 60_000;

/** The steps a history may be read at, in ms. */
export const ANALYTICS_STEPS = { '1m': MINUTE_MS, '5m': 5 * MINUTE_MS, '1h': 60 * MINUTE_MS, '1d': 1440 * MINUTE_MS } as const;
/** A step's name. */
export type AnalyticsStep = keyof typeof ANALYTICS_STEPS;

/** Most points one answer holds (a day of minutes). */
export const MAX_ANALYTICS_POINTS = 1440;
/** The window read when `from` is not given: the hour before `to`. */
export const DEFAULT_ANALYTICS_WINDOW_MS = 60 * MINUTE_MS;

/** A step's name as the query and the answer carry it. */
const stepSchema = z.enum(Object.keys(ANALYTICS_STEPS) as [AnalyticsStep, ...AnalyticsStep[]]);

/** A time as ms since epoch (digits) or an ISO 8601 date-time with a zone (`2026-11-30T02:00:00Z`). */
const instant = z.string().transform((s, ctx) => {
  const ms = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(s) ? Date.parse(s) : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be ms since epoch or an ISO 8601 date-time with a zone' });
    return z.NEVER;
  }
  return ms;
});

/** Query of both analytics routes, before defaults that need the clock (`analyticsRange`). */
export const analyticsQuerySchema = z.object({
  from: instant.optional().meta({ description: 'Start: ms since epoch (digits) or ISO 8601 with a zone. Default: an hour before `to`.' }),
  to: instant.optional().meta({ description: 'End (exclusive): ms since epoch or ISO 8601 with a zone. Default and upper bound: the start of the current minute.' }),
  step: stepSchema.default('1m'),
});
export type AnalyticsQuery = z.infer<typeof analyticsQuerySchema>;

/** A resolved range: steps start at multiples of `stepMs` (UTC), the first one at or before `from`. */
export interface AnalyticsRange {
  from: number;
  to: number;
  step: AnalyticsStep;
  stepMs: number;
}

/**
 * The range a query asks for at `now`: `to` defaults to, and is clamped to, the start of the current
 * minute (a minute is reported once it is over), `from` to an hour before `to`; a range that is
 * empty or needs more than `MAX_ANALYTICS_POINTS` points is refused with a message naming the field. Pure.
 */
export function analyticsRange(query: AnalyticsQuery, now: number): AnalyticsRange | { error: string } {
  const closed = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const to = Math.min(query.to ?? closed, closed);
  const from = query.from ?? to - DEFAULT_ANALYTICS_WINDOW_MS;
  if (from >= to) return { error: `from: must be before to (${new Date(to).toISOString()}; to is at most the start of the current minute)` };
  const stepMs = ANALYTICS_STEPS[query.step];
  const points = Math.ceil((to - Math.floor(from / stepMs) * stepMs) / stepMs);
  if (points > MAX_ANALYTICS_POINTS) return { error: `step: ${points} points of ${query.step} from..to; at most ${MAX_ANALYTICS_POINTS} (use a larger step or a shorter range)` };
  return { from, to, step: query.step, stepMs };
}

// The answer schemas are strict and named (`meta({ id })`): the OpenAPI document says
// `additionalProperties: false` and lists each once under components.

/** One point of a stream's history (see docs/edge.md for each field's meaning and approximation). */
export const streamAnalyticsPointSchema = z
  .strictObject({
    /** Start of the step, ms since epoch. */
    t: z.number().int(),
    currentViewers: z.number().int().min(0),
    peakViewers: z.number().int().min(0),
    uniqueViewers: z.number().int().min(0),
    ingestKbps: z.number().min(0).nullable(),
    startupP50Ms: z.number().int().min(0).nullable(),
    rebufferRatio: z.number().min(0).max(1).nullable(),
    errors: z.number().int().min(0),
  })
  .meta({ id: 'StreamAnalyticsPoint' });
export type StreamAnalyticsPoint = z.infer<typeof streamAnalyticsPointSchema>;

/** One point of the fleet's history: the stream fields summed over streams, and stream counts. */
export const fleetAnalyticsPointSchema = streamAnalyticsPointSchema
  .extend({
    /** Streams live in the step (the most in any one minute). */
    liveStreams: z.number().int().min(0),
    /** Streams with a rollup in the step (live or watched; the most in any one minute). */
    activeStreams: z.number().int().min(0),
  })
  .meta({ id: 'FleetAnalyticsPoint' });
export type FleetAnalyticsPoint = z.infer<typeof fleetAnalyticsPointSchema>;

/** `GET /v1/streams/:id/analytics`. */
export const streamAnalyticsSchema = z
  .strictObject({ streamId: z.string(), from: z.number().int(), to: z.number().int(), step: stepSchema, points: z.array(streamAnalyticsPointSchema) })
  .meta({ id: 'StreamAnalytics' });
export type StreamAnalytics = z.infer<typeof streamAnalyticsSchema>;

/** `GET /v1/analytics`. */
export const fleetAnalyticsSchema = z
  .strictObject({ from: z.number().int(), to: z.number().int(), step: stepSchema, points: z.array(fleetAnalyticsPointSchema) })
  .meta({ id: 'FleetAnalytics' });
export type FleetAnalytics = z.infer<typeof fleetAnalyticsSchema>;
