/**
 * The typed management API client: openapi-fetch over the types generated from the edge's OpenAPI
 * document, so paths, parameters, bodies and answers are checked by the compiler.
 * `const api = managementClient(edgeUrl, adminToken); const { data } = await api.GET('/v1/streams/{id}', { params: { path: { id } } })`.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './management-api-types.ts';

/** A client of every documented `/v1` operation. */
export type ManagementClient = Client<paths>;

/** A client of the management API at `baseUrl` (the edge's origin) with the admin bearer token. */
export function managementClient(baseUrl: string, adminToken: string, options: { fetch?: (request: Request) => Promise<Response> } = {}): ManagementClient {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${adminToken}` }, ...options });
}

/** The answer of a call that must succeed; otherwise an Error naming the request, status and error body. */
export async function okData<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new Error(`management API ${response.url} answered ${response.status}: ${JSON.stringify(error)}`);
  return data as T;
}
