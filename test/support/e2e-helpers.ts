/** Small helpers the end-to-end tests share: polling, admin API calls, playlist reading. */

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

/** A fetch against the edge's management API with the admin bearer token and JSON content type. */
export function adminFetch(edge: { edgeUrl: string; adminToken: string }, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${edge.edgeUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${edge.adminToken}`, 'content-type': 'application/json', ...init.headers },
  });
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
export interface StreamEventEntry {
  seq: number;
  ts: number;
  type: string;
  data: Record<string, unknown>;
}

/** Event types about a stream's lifecycle; the rest of the log (viewer milestones, key rotations, quality switches) is not. */
export const LIFECYCLE_EVENTS: ReadonlySet<string> = new Set(['publish_accepted', 'publish_refused', 'live', 'reconnecting', 'reconnected', 'resumed', 'error', 'ended']);

/** `type(reason)@+ms` for each event, relative to `origin`: for logs and failure messages. */
export function describeEvents(events: readonly StreamEventEntry[], origin: number): string {
  const at = (ms: number) => (ms < 0 ? `${ms}` : `+${ms}`);
  return events.map((e) => `${e.type}${e.data.reason ? `(${String(e.data.reason)})` : ''}@${at(e.ts - origin)}ms`).join(', ') || 'none';
}

/** The stream's event log (up to 1,000 entries after `since`). */
export async function streamEvents(edge: { edgeUrl: string; adminToken: string }, id: string, since = 0): Promise<StreamEventEntry[]> {
  const res = await adminFetch(edge, `/v1/streams/${id}/events?since=${since}&limit=1000`);
  return ((await res.json()) as { events: StreamEventEntry[] }).events;
}

/** The fields of `GET /v1/streams/:id` the end-to-end tests read. */
export interface StreamViewFields {
  status: string;
  epoch: number;
  playback: { hls: string };
  storage?: { segmentRows: number; eventRows: number };
}

/** `GET /v1/streams/:id` as JSON. */
export async function streamView(edge: { edgeUrl: string; adminToken: string }, id: string): Promise<StreamViewFields> {
  return (await (await adminFetch(edge, `/v1/streams/${id}`)).json()) as StreamViewFields;
}

/** A stream as `POST /v1/streams` returns it. */
export interface CreatedStream {
  id: string;
  streamKey: string;
  playback: { hls: string };
}

/** Creates a stream with `body` (JSON of POST /v1/streams), failing on any status but 201. */
export async function createStream(edge: { edgeUrl: string; adminToken: string }, body: Record<string, unknown>): Promise<CreatedStream> {
  const res = await adminFetch(edge, '/v1/streams', { method: 'POST', body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST /v1/streams answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as CreatedStream;
}
