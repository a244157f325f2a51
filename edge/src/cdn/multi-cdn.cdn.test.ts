import { env } from 'cloudflare:workers';
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { admin, json, liveStream, rendition, segments, session, signed, viewer, text } from '../test-support/edge-client.ts';
import worker from '../worker.ts';
import { CdnHealth, cdnHealthStub } from './cdn-health.ts';
import { healthView } from './health-view.ts';

/** Health URLs answering 503; everything else the mock answers 200. */
let failing = new Set<string>();
let healthFetches: string[] = [];

beforeEach(() => {
  // The CdnHealth object runs in this isolate: its probes go through this mock.
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    healthFetches.push(url);
    return failing.has(new URL(url).host) ? new Response('down', { status: 503 }) : new Response('ok');
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  healthView.forget();
});

async function streamWithSegments(): Promise<{ id: string }> {
  const s = await liveStream({ lowLatency: false }); // plain HLS; LL-HLS rewriting keeps URI attributes (rewrite-media-playlist)
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '720p'));
  await signed(INTERNAL_API.segments(s.id), segments(s.epoch, '720p', [0, 1]));
  return s;
}

/** Two probe rounds: enough for the default hysteresis (2 failures down, 2 successes up). */
async function probeTwice(): Promise<void> {
  await cdnHealthStub(env).probe();
  await cdnHealthStub(env).probe();
  healthView.forget();
}

const INF = '#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000';

describe('multi-CDN playback (three CDNs configured)', () => {
  let id: string;

  it('steers a session over every CDN in its rendezvous order', async () => {
    ({ id } = await streamWithSegments());
    // session-0002 ranks cdn-b, cdn-c, cdn-a (shared/src/hashing, weights 1, 1, 2).
    const res = await viewer(`/live/${id}/master.m3u8?sid=session-0002`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=2');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-CONTENT-STEERING:SERVER-URI="https://edge.test/live/${id}/steering.json?sid=session-0002",PATHWAY-ID="cdn-b"
${INF},PATHWAY-ID="cdn-b"
https://b.cdn.test/live/${id}/720p/index.m3u8?sid=session-0002
${INF},PATHWAY-ID="cdn-c"
https://c.cdn.test/live/${id}/720p/index.m3u8?sid=session-0002
${INF},PATHWAY-ID="cdn-a"
https://a.cdn.test/live/${id}/720p/index.m3u8?sid=session-0002
`);
  });

  it('mints a session for a master request without one, private to that viewer', async () => {
    const res = await viewer(`/live/${id}/master.m3u8`);
    expect(res.headers.get('cache-control')).toBe('private, max-age=2');
    const body = await text(res);
    const sid = /steering\.json\?sid=([A-Za-z0-9_-]{44})"/.exec(body)?.[1];
    expect(sid).toBeDefined();
    expect(body.match(new RegExp(`index\\.m3u8\\?sid=${sid}\\n`, 'g'))).toHaveLength(3);
    expect(/steering\.json\?sid=([A-Za-z0-9_-]{44})"/.exec(await text(await viewer(`/live/${id}/master.m3u8`)))?.[1]).not.toBe(sid);
  });

  it('rewrites media playlists onto the session’s first CDN, sharing one StreamDO render', async () => {
    const res = await viewer(`/live/${id}/720p/index.m3u8?sid=session-0002`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="https://b.cdn.test/live/${id}/720p/init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
https://b.cdn.test/live/${id}/720p/seg-0-e1.m4s
#EXTINF:2.000,
https://b.cdn.test/live/${id}/720p/seg-1-e1.m4s
`);
    // session-0001 ranks cdn-c first. Its playlist comes from the same cache entry: no StreamDO call.
    const { StreamDO } = await import('../stream-do/stream-do.ts');
    const spy = vi.spyOn(StreamDO.prototype, 'mediaPlaylist');
    expect(await text(await viewer(`/live/${id}/720p/index.m3u8?sid=session-0001`))).toContain(`https://c.cdn.test/live/${id}/720p/seg-1-e1.m4s`);
    expect(spy).not.toHaveBeenCalled();
  });

  it('serves the steering manifest, accepting the players’ _HLS_ parameters', async () => {
    const res = await viewer(`/live/${id}/steering.json?sid=session-0002&_HLS_pathway=cdn-b&_HLS_throughput=5000000`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('private, max-age=1');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.text()).toBe(
      `{"VERSION":1,"TTL":60,"RELOAD-URI":"https://edge.test/live/${id}/steering.json?sid=session-0002","PATHWAY-PRIORITY":["cdn-b","cdn-c","cdn-a"]}`,
    );
    expect((await viewer('/live/BAD/steering.json')).status).toBe(404);
  });

  it('drops a CDN that fails two probes from steering and new playlists, and logs it on live streams', async () => {
    failing = new Set(['b.cdn.test']);
    await cdnHealthStub(env).probe();
    healthView.forget();
    // One failure is not enough (hysteresis).
    expect(await text(await viewer(`/live/${id}/steering.json?sid=session-0002`))).toContain('"PATHWAY-PRIORITY":["cdn-b","cdn-c","cdn-a"]');
    await probeTwice();
    expect(await text(await viewer(`/live/${id}/steering.json?sid=session-0002`))).toContain('"PATHWAY-PRIORITY":["cdn-c","cdn-a"]');
    const master = await text(await viewer(`/live/${id}/master.m3u8?sid=session-0002`));
    expect(master).toContain('PATHWAY-ID="cdn-c"\n');
    expect(master).not.toContain('cdn-b');
    expect(await text(await viewer(`/live/${id}/720p/index.m3u8?sid=session-0002`))).toContain(`https://c.cdn.test/live/${id}/720p/seg-0-e1.m4s`);
    const states = await cdnHealthStub(env).states();
    expect(states.find((s) => s.id === 'cdn-b')).toMatchObject({ up: false, consecutiveFailures: 3, lastError: 'status 503' });
    const { events } = await json<{ events: { type: string; data: unknown }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(events.filter((e) => e.type === 'cdn_health').map((e) => e.data)).toEqual([{ cdn: 'cdn-b', state: 'down', reason: 'probe', error: 'status 503' }]);
  });

  it('serves from the edge itself when every CDN is down, and steers again once they recover', async () => {
    failing = new Set(['a.cdn.test', 'b.cdn.test', 'c.cdn.test']);
    await probeTwice();
    expect(await text(await viewer(`/live/${id}/master.m3u8?sid=session-0002`))).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
${INF}
720p/index.m3u8?sid=session-0002
`);
    expect(await text(await viewer(`/live/${id}/720p/index.m3u8?sid=session-0002`))).toContain('\nseg-1-e1.m4s\n');
    expect(await text(await viewer(`/live/${id}/steering.json?sid=session-0002`))).toContain('"PATHWAY-PRIORITY":[]');

    failing = new Set();
    await probeTwice();
    expect(await text(await viewer(`/live/${id}/steering.json?sid=session-0002`))).toContain('"PATHWAY-PRIORITY":["cdn-b","cdn-c","cdn-a"]');
    const { events } = await json<{ events: { type: string; data: { cdn: string; state: string } }[] }>(await admin('GET', `/v1/streams/${id}/events`));
    expect(events.filter((e) => e.type === 'cdn_health').map((e) => `${e.data.cdn} ${e.data.state}`)).toEqual([
      'cdn-b down',
      'cdn-a down',
      'cdn-c down',
      'cdn-a up',
      'cdn-b up',
      'cdn-c up',
    ]);
  });

  it('reads health through the isolate cache, not once per request', async () => {
    const spy = vi.spyOn(CdnHealth.prototype, 'snapshot');
    for (let i = 0; i < 5; i++) await viewer(`/live/${id}/720p/index.m3u8?sid=session-000${i + 1}`);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

describe('CDN health probing', () => {
  it('runs a probe round from the cron trigger and keeps the alarm loop armed', async () => {
    healthFetches = [];
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '* * * * *', scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(healthFetches.sort()).toEqual(['https://a.cdn.test/health', 'https://b.cdn.test/health', 'https://c.cdn.test/health']);
    const alarm = await runInDurableObject(cdnHealthStub(env), (_o: CdnHealth, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());
    healthFetches = [];
    expect(await runDurableObjectAlarm(cdnHealthStub(env))).toBe(true);
    expect(healthFetches).toHaveLength(3);
    // The alarm re-armed itself one probe interval out.
    expect(await runInDurableObject(cdnHealthStub(env), (_o: CdnHealth, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now() + 50_000);
  });

  it('counts player errors from enough distinct sessions as one failed probe, never against a passing probe', async () => {
    const stub = cdnHealthStub(env);
    const cdnA = async () => (await stub.states()).find((s) => s.id === 'cdn-a');
    await stub.probe(); // every CDN passes its probe
    // However many sessions report it, a CDN whose latest probe passed stays up: probes decide.
    await stub.reportErrors({ 'cdn-a': ['s1', 's2', 's3', 's4', 's5', 's6'] });
    expect(await cdnA()).toMatchObject({ up: true, consecutiveFailures: 0 });
    expect((await stub.snapshot()).down).toEqual([]);
    // Its probe fails once: now player reports count, once per distinct session.
    failing = new Set(['a.cdn.test']);
    await stub.probe();
    expect(await cdnA()).toMatchObject({ up: true, consecutiveFailures: 1 });
    await stub.reportErrors({ 'cdn-a': ['s1', 's1', 's2'] }); // two distinct sessions: under the threshold of 3
    expect(await cdnA()).toMatchObject({ up: true, consecutiveFailures: 1 });
    await stub.reportErrors({ 'cdn-a': ['s2', 's3'], unknown: ['x', 'y', 'z'] }); // the third distinct session
    expect(await cdnA()).toMatchObject({ up: false, consecutiveFailures: 2, lastError: 'player errors from 3 sessions' });
    expect((await stub.snapshot()).down).toEqual(['cdn-a']);
    failing = new Set();
    await probeTwice();
    expect((await stub.snapshot()).down).toEqual([]);
  });
});

describe('POST /live/:id/cdn-errors', () => {
  /** A beacon from the edge-signed session named `label` (a `sid` in `body` is sent as given). */
  const beacon = async (body: unknown, label = 'beacon-session-1') =>
    SELF_POST(`/live/abcdefghijklmnop/cdn-errors`, JSON.stringify(typeof body === 'object' && body !== null ? { sid: await session(label), ...body } : body));

  it('validates, forwards aggregated counts to CdnHealth and rate-limits each session', async () => {
    const spy = vi.spyOn(CdnHealth.prototype, 'reportErrors');
    const first = await beacon({ cdn: 'cdn-c', kind: 'timeout' });
    expect(first.status).toBe(204);
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    const sid = await session('beacon-session-1');
    await vi.waitFor(() => expect(spy).toHaveBeenCalledWith({ 'cdn-c': [sid] }));
    for (let i = 0; i < 4; i++) expect((await beacon({ cdn: 'cdn-c', kind: 'http' })).status).toBe(204);
    const limited = await beacon({ cdn: 'cdn-c', kind: 'http' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('10');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  });

  it('refuses a session id the edge did not sign: it never votes on CDN health', async () => {
    const spy = vi.spyOn(CdnHealth.prototype, 'reportErrors');
    const res = await beacon({ cdn: 'cdn-a', kind: 'http', sid: 'made-up-session-0001' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('sid: session id was not issued by this edge');
    await new Promise((r) => setTimeout(r, 1100));
    // (An earlier test's batch may still be flushing; none carries the made-up session.)
    expect(JSON.stringify(spy.mock.calls)).not.toContain('made-up-session-0001');
  });

  it.each<[unknown, number, string]>([
    [{ cdn: 'cdn-z', kind: 'http' }, 400, 'cdn: unknown CDN "cdn-z"'],
    [{ cdn: 'cdn-a', kind: 'stall' }, 400, 'kind: Invalid option: expected one of "network"|"timeout"|"http"'],
    [{ cdn: 'cdn-a', kind: 'http', extra: 1 }, 400, 'body: Unrecognized key: "extra"'],
    [{ cdn: 'cdn-a', kind: 'http', sid: 'x' }, 400, 'sid: session id must be 8-64 of [A-Za-z0-9_-]'],
    [{ cdn: 'cdn-a', kind: 'http', note: 'x'.repeat(2000) }, 413, 'a beacon is at most 1024 bytes'],
  ])('refuses %o', async (body, status, message) => {
    const res = await beacon(body, 'other-session-2');
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(message);
  });

  it('counts an accepted beacon in the per-minute errors of its stream', async () => {
    const { id } = await liveStream();
    const res = await SELF_POST(`/live/${id}/cdn-errors`, JSON.stringify({ sid: await session('analytics-session-3'), cdn: 'cdn-b', kind: 'network' }));
    expect(res.status).toBe(204);
    const stream = env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
    await vi.waitFor(async () => {
      // Open or already closed by the alarm at a minute's end: the count is the same.
      const errors = await runInDurableObject(stream, (_o, state) => state.storage.sql.exec<{ n: number }>('SELECT (SELECT COALESCE(SUM(errors), 0) FROM analytics_open) + (SELECT COALESCE(SUM(errors), 0) FROM analytics_minutes) AS n').one().n);
      expect(errors).toBe(1);
    });
  });

  it('answers CORS preflights for POST', async () => {
    const { SELF } = await import('cloudflare:test');
    const res = await SELF.fetch('https://edge.test/live/abcdefghijklmnop/cdn-errors', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } });
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
  });
});

async function SELF_POST(path: string, body: string): Promise<Response> {
  const { SELF } = await import('cloudflare:test');
  return SELF.fetch(`https://edge.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}
