/** Small helpers the end-to-end tests share: polling, admin API calls, playlist reading. */
import type { components, paths } from '../../shared/src/api/management-api-types.ts';
import { managementClient, okData, type ManagementClient } from '../../shared/src/api/management-client.ts';

/** Where a stack's edge answers and its admin token. */
export interface EdgeAccess {
  edgeUrl: string;
  adminToken: string;
}

/** Polls `probe` every 100 ms until it yields a value (errors count as "not yet"), or fails naming `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The typed management API client of a stack's edge (admin bearer token). */
export function adminApi(edge: EdgeAccess): ManagementClient {
  return managementClient(edge.edgeUrl, edge.adminToken);
}

/** The `{ params: { path: { id } } }` of an operation on one stream. */
export function streamPath(id: string): { params: { path: { id: string } } } {
  return { params: { path: { id } } };
}

/** GET `url` as text with its status and headers. */
export async function fetchText(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** The segment files a media playlist lists (`seg-<msn>-e<epoch>.m4s`), in order, gaps included. */
export function listedFiles(playlist: string): string[] {
  return [...playlist.matchAll(/seg-\d+-e\d+\.m4s/g)].map((m) => m[0]);
}

/** The media sequence numbers of the segments a media playlist lists, in order. */
export function listedMsns(playlist: string): number[] {
  return [...playlist.matchAll(/seg-(\d+)-e\d+\.m4s/g)].map((m) => Number(m[1]));
}

/** The HTTP status of each listed file under `base` (a rendition's URL), as [file, status] pairs. */
export async function fileStatuses(base: string, files: string[]): Promise<[string, number][]> {
  return Promise.all(files.map(async (f) => [f, (await fetch(`${base}/${f}`)).status] as [string, number]));
}

/** One entry of a stream's event log as `GET /v1/streams/:id/events` returns it. */
export type StreamEventEntry = components['schemas']['EventPage']['events'][number];

/** Event types about a stream's lifecycle; the rest of the log (viewer milestones, key rotations, quality switches) is not. */
export const LIFECYCLE_EVENTS: ReadonlySet<string> = new Set(['publish_accepted', 'publish_refused', 'live', 'reconnecting', 'reconnected', 'resumed', 'error', 'ended']);

/** `type(reason)@+ms` for each event, relative to `origin`: for logs and failure messages. */
export function describeEvents(events: readonly StreamEventEntry[], origin: number): string {
  const at = (ms: number) => (ms < 0 ? `${ms}` : `+${ms}`);
  return events.map((e) => `${e.type}${e.data.reason ? `(${String(e.data.reason)})` : ''}@${at(e.ts - origin)}ms`).join(', ') || 'none';
}

/** The stream's event log (up to 1,000 entries after `since`). */
export async function streamEvents(edge: EdgeAccess, id: string, since = 0): Promise<StreamEventEntry[]> {
  const params = { path: { id }, query: { since, limit: 1000 } };
  return (await okData(adminApi(edge).GET('/v1/streams/{id}/events', { params }))).events;
}

/** A stream as `GET /v1/streams/:id` answers it. */
export type StreamAnswer = components['schemas']['Stream'];

/** `GET /v1/streams/:id`; throws with the status and error body unless it is 200. */
export async function streamView(edge: EdgeAccess, id: string): Promise<StreamAnswer> {
  return okData(adminApi(edge).GET('/v1/streams/{id}', streamPath(id)));
}

/** A stream as `POST /v1/streams` returns it. */
export type CreatedStream = components['schemas']['CreatedStream'];

/** The JSON body of `POST /v1/streams`. */
export type CreateStreamBody = NonNullable<paths['/v1/streams']['post']['requestBody']>['content']['application/json'];

/** Creates a stream with `body`, failing on any status but 201. */
export async function createStream(edge: EdgeAccess, body: CreateStreamBody): Promise<CreatedStream> {
  return okData(adminApi(edge).POST('/v1/streams', { body }));
}
