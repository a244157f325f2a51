/** The documented operations about the edge itself: isolate stats, Prometheus metrics, this description. */
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { edgeStatsSchema } from './answer-schemas.ts';
import { errorAnswers, json } from './operation-parts.ts';

/** The outline of an OpenAPI 3.1 document (its full schema is the OpenAPI specification's own). */
const openApiDocumentSchema = z.looseObject({
  openapi: z.literal('3.1.0'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/** `/v1/edge/stats`, `/v1/metrics` and `/v1/openapi.json` (the last one public). */
export const edgeOperations: RouteConfig[] = [
  {
    method: 'get',
    path: '/v1/edge/stats',
    operationId: 'getEdgeStats',
    summary: 'This isolate’s viewer-request and StreamDO-call counters',
    responses: { 200: { description: 'One isolate’s counters.', content: json(edgeStatsSchema) }, ...errorAnswers(401) },
  },
  {
    method: 'get',
    path: '/v1/metrics',
    operationId: 'getMetrics',
    summary: 'Edge metrics in Prometheus text',
    responses: {
      200: { description: 'Prometheus exposition format 0.0.4.', content: { 'text/plain': { schema: z.string() } } },
      ...errorAnswers(401),
    },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This description of the management API (OpenAPI 3.1); public',
    security: [],
    responses: { 200: { description: 'The OpenAPI 3.1 document.', content: json(openApiDocumentSchema) } },
  },
];
