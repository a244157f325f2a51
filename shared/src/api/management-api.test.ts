import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { API_TYPES_PATH, managementApiTypesSource } from '../../../scripts/generate-api-types.ts';
import { buildOpenApiDocument } from './openapi-document.ts';

const document = buildOpenApiDocument();

/** `METHOD /path` of every operation in the document, paths as OpenAPI writes them (`{id}`). */
function specRoutes(): string[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => ['get', 'put', 'post', 'delete', 'patch'].includes(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

/** `METHOD /v1/...` of every row of docs/edge.md's API tables, `:id` written `{id}`, query and options dropped. */
function documentedRoutes(markdown: string): string[] {
  const rows = markdown.split('\n').flatMap((line) => {
    const m = /^\| `(GET|POST|PUT|PATCH|DELETE) (\/v1\/[^`?[\s]*)/.exec(line);
    return m ? [`${m[1]} ${m[2]!.replace(/:(\w+)/g, '{$1}')}`] : [];
  });
  return [...new Set(rows)];
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (@readme/openapi-parser)', async () => {
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
    expect(document.openapi).toBe('3.1.0');
  });

  it('lists exactly the /v1 routes that docs/edge.md documents', () => {
    const markdown = readFileSync(resolve(import.meta.dirname, '../../../docs/edge.md'), 'utf8');
    expect(documentedRoutes(markdown).sort()).toEqual(specRoutes().sort());
  });

  it('reads table rows with their query, options and path parameters', () => {
    const md = ['| `GET /v1/streams?status=&limit=` | x |', '| `GET /v1/streams/:id/recordings[/:rid]` | y |', '| `POST /key-check` `{…}` | z |', '`GET /v1/metrics` in prose'].join('\n');
    expect(documentedRoutes(md)).toEqual(['GET /v1/streams', 'GET /v1/streams/{id}/recordings']);
  });

  it('gives every admin operation the bearer scheme and leaves only itself public', () => {
    expect(document.security).toEqual([{ adminBearer: [] }]);
    expect(document.components?.securitySchemes).toEqual({ adminBearer: { type: 'http', scheme: 'bearer', description: 'The edge’s ADMIN_TOKEN secret.' } });
    const publicOps = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, op]) => ((op as { security?: unknown[] }).security?.length === 0 ? [`${method} ${path}`] : [])),
    );
    expect(publicOps).toEqual(['get /v1/openapi.json']);
  });

  it('matches the committed client types (npm run api:types regenerates them)', async () => {
    expect(readFileSync(API_TYPES_PATH, 'utf8')).toBe(await managementApiTypesSource(document));
  });
});
