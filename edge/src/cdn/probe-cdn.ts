/** One active health probe of a CDN. */

/** What a probe saw: healthy means a 2xx within the timeout. */
export interface ProbeResult {
  ok: boolean;
  /** Why it failed (`status 503`, `timeout`, the network error), null when ok. */
  error: string | null;
}

/** GETs `healthUrl` with a timeout; never throws. */
export async function probeCdn(healthUrl: string, timeoutMs: number): Promise<ProbeResult> {
  try {
    const res = await fetch(healthUrl, { signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'edgelive-cdn-health' } });
    // Drain nothing we do not need; an unread body would hold the connection.
    await res.body?.cancel();
    return res.ok ? { ok: true, error: null } : { ok: false, error: `status ${res.status}` };
  } catch (err) {
    const name = (err as Error).name;
    return { ok: false, error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : (err as Error).message || String(err) };
  }
}
