/** The documented analytics history operations: one stream's per-minute rollups and the fleet's totals. */
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { analyticsQuerySchema, fleetAnalyticsSchema, streamAnalyticsSchema } from '../analytics/analytics-query.ts';
import { errorAnswers, json, streamIdParams } from './operation-parts.ts';

/** The query is the schema `edge/src/routes/analytics.ts` parses with; `from` and `to` are documented as the strings it accepts (it turns them into ms). */
export const analyticsOperations: RouteConfig[] = [
  {
    method: 'get',
    path: '/v1/streams/{id}/analytics',
    operationId: 'getStreamAnalytics',
    summary: 'A stream’s per-minute history, folded into steps',
    description: 'Every step in the range has a point, empty ones included; at most 1440 points (more is 400).',
    request: { params: streamIdParams, query: analyticsQuerySchema },
    responses: { 200: { description: 'The points; `from` is the start of the first step.', content: json(streamAnalyticsSchema) }, ...errorAnswers(400, 401, 404) },
  },
  {
    method: 'get',
    path: '/v1/analytics',
    operationId: 'getFleetAnalytics',
    summary: 'The same history summed over every stream, with live and active stream counts',
    request: { query: analyticsQuerySchema },
    responses: { 200: { description: 'The points; `from` is the start of the first step.', content: json(fleetAnalyticsSchema) }, ...errorAnswers(400, 401) },
  },
];
