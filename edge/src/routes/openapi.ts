import { Hono } from 'hono';
import { buildOpenApiDocument } from '../../../shared/src/api/openapi-document.ts';
import type { AppEnv } from '../app-env.ts';

let documentText: string | null = null;

/**
 * `GET /v1/openapi.json`: the management API's OpenAPI 3.1 description. Public: it holds no
 * secret, and without credentials it costs no more than a cached answer (built once per isolate,
 * then cacheable by CDNs for five minutes).
 */
export const openApiRoutes = new Hono<AppEnv>();

openApiRoutes.get('/', (c) => {
  documentText ??= JSON.stringify(buildOpenApiDocument());
  return c.body(documentText, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' });
});
