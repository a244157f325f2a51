/**
 * The management API's OpenAPI 3.1 description, generated from the zod schemas the routes validate
 * with and the answer schemas (`GET /v1/openapi.json` serves it; `npm run api:types` types the client
 * from it). To document a route: add its `RouteConfig` to one of the operation lists below (or a new
 * `*-operations.ts` listed here); the route coverage test then fails until a test exercises it.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { analyticsOperations } from './analytics-operations.ts';
import { edgeOperations } from './edge-operations.ts';
import { recordingOperations } from './recording-operations.ts';
import { streamOperations } from './stream-operations.ts';
import { webhookOperations } from './webhook-operations.ts';

/** Every documented operation, in the order the document lists them. */
export const documentedOperations: readonly RouteConfig[] = [...streamOperations, ...recordingOperations, ...analyticsOperations, ...webhookOperations, ...edgeOperations];

/** Name of the admin bearer security scheme. */
export const ADMIN_SECURITY_SCHEME = 'adminBearer';

/** The OpenAPI 3.1 document object; pure (the same input gives the same document). */
export function buildOpenApiDocument(operations: readonly RouteConfig[] = documentedOperations): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', ADMIN_SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'The edge’s ADMIN_TOKEN secret.',
  });
  for (const op of operations) registry.registerPath(op);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'edgelive management API',
      version: '1',
      description:
        'Streams, playback tokens, recordings, analytics history, webhooks and edge metrics. JSON in and out; errors are `{"error": {"code", "message"}}` with a 4xx/5xx status.',
    },
    security: [{ [ADMIN_SECURITY_SCHEME]: [] }],
  });
}
