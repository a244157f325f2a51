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
