import { Validator, type Schema } from '@cfworker/json-schema';
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as z from 'zod';
import type { eventPageSchema, recordingAnswerSchema, streamAnswerSchema, streamPageSchema } from '../../../shared/src/api/answer-schemas.ts';
import { managementClient, okData, type ManagementClient } from '../../../shared/src/api/management-client.ts';
import { buildOpenApiDocument } from '../../../shared/src/api/openapi-document.ts';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import type { MediaStreamFields } from '../recordings/recordings-rpc.ts';
import type { RecordingView } from '../recordings/stream-recordings.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import type { EventPage, StreamView } from '../stream-do/stream-view.ts';
import type { StreamPage } from '../stream-registry/stream-registry.ts';
import { ADMIN_TOKEN, awayFromMinuteEnd, BASE, publish, rendition, segments, signed } from '../test-support/edge-client.ts';
import { emptyQoe } from '../viewers/viewer-batch.ts';
import { webhookHubStub } from '../webhooks/webhook-hub.ts';
import { packBatch } from '../viewers/packed-batch.ts';

/** The parts of the served OpenAPI document these tests read. */
interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
  components: Record<string, unknown>;
}

let doc: Doc;
/** `METHOD /path` → statuses whose answers were checked against the document. */
const checked = new Map<string, Set<number>>();

/**
 * Checks one answer against the served document: its status must be documented for the operation,
 * and its body must match the schema of that status and content type (JSON Schema 2020-12, checked
 * by @cfworker/json-schema, which runs in workerd without code generation).
 */
function checkAnswer(method: string, path: string, status: number, contentType: string | null, body: string): void {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (op === undefined) throw new Error(`${method} ${path} is not documented`);
  const documented = op.responses[String(status)];
  if (documented === undefined) throw new Error(`${method} ${path} answered ${status}, which the document does not list: ${body}`);
  if (documented.content === undefined) {
    if (body !== '') throw new Error(`${method} ${path} ${status} documents no body but sent ${body}`);
  } else {
    const media = (contentType ?? '').split(';')[0]!.trim();
    const schema = documented.content[media]?.schema;
    if (schema === undefined) throw new Error(`${method} ${path} ${status} answered ${media}, documented: ${Object.keys(documented.content).join(', ')}`);
    const instance: unknown = media === 'application/json' ? JSON.parse(body) : body;
    // The schema's $refs point into #/components: validate from a root that holds them.
    const pointer = `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${status}/content/${media.replaceAll('/', '~1')}/schema`;
    const root = structuredClone({ $ref: pointer, paths: doc.paths, components: doc.components }) as Schema;
    const result = new Validator(root, '2020-12', false).validate(instance);
    if (!result.valid) throw new Error(`${method} ${path} ${status} does not match its schema: ${JSON.stringify(result.errors.slice(-3))}\n${body}`);
  }
  const key = `${method} ${path}`;
  checked.set(key, (checked.get(key) ?? new Set()).add(status));
}

/** The typed client on the real Worker; every answer it gets is checked against the document. */
function checkedClient(token = ADMIN_TOKEN): ManagementClient {
  const api = managementClient(BASE, token, { fetch: (request) => SELF.fetch(request) });
  api.use({
    async onResponse({ request, schemaPath, response }) {
      checkAnswer(request.method, schemaPath, response.status, response.headers.get('content-type'), await response.clone().text());
    },
  });
  return api;
}

const api = (): ManagementClient => checkedClient();
const path = (id: string) => ({ params: { path: { id } } });

beforeAll(async () => {
  doc = (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as Doc;
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /v1/openapi.json', () => {
  it('serves the document built from the zod schemas, publicly and cacheable', async () => {
    // A raw fetch: the document is public, so this one carries no bearer token.
    const res = await SELF.fetch(`${BASE}/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    expect((await okData(api().GET('/v1/openapi.json'))).openapi).toBe('3.1.0');
  });
});

/** True only when A and B are assignable to each other: a field on one side only fails to compile. */
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('the answer schemas', () => {
  it('have the shapes the handlers answer with (checked by the compiler: a field added to a view fails typecheck until documented)', () => {
    const checks: true[] = [
      true satisfies SameShape<z.output<typeof streamAnswerSchema>, StreamView & MediaStreamFields & { ingestUrl: string; playback: { hls: string; dash: string } }>,
      true satisfies SameShape<z.output<typeof streamPageSchema>, StreamPage>,
      true satisfies SameShape<z.output<typeof eventPageSchema>, EventPage>,
      // The row's status is a plain string in storage; the API documents its three values.
      true satisfies SameShape<Omit<z.output<typeof recordingAnswerSchema>, 'status'>, Omit<RecordingView, 'status'> & { thumbnailUrl: string | null; playback: { hls: string | null; mp4: string | null } }>,
    ];
    expect(checks).toEqual([true, true, true, true]);
  });
});

describe('every documented operation, called through the typed client', () => {
  it('creates, lists, reads, changes, rotates, reads events of, ends and deletes a stream', async () => {
    const created = await okData(api().POST('/v1/streams', { body: { name: 'spec', reconnectWindowSeconds: 30 } }));
    expect(created).toMatchObject({ name: 'spec', status: 'idle', reconnectWindowSeconds: 30, lowLatency: true, record: false });
    const { id } = created;

    const page = await okData(api().GET('/v1/streams', { params: { query: { status: 'idle', limit: 100 } } }));
    expect(page.streams.map((s) => s.id)).toContain(id);
    expect((await okData(api().GET('/v1/streams/{id}', path(id)))).status).toBe('idle');
    expect((await okData(api().PATCH('/v1/streams/{id}', { ...path(id), body: { name: 'renamed' } }))).name).toBe('renamed');
    expect((await okData(api().POST('/v1/streams/{id}/key', path(id)))).streamKey).toMatch(new RegExp(`^${id}_`));
    const token = await okData(api().POST('/v1/streams/{id}/feed-tokens', { ...path(id), body: { ttlSeconds: 120 } }));
    expect(token.url).toBe(`wss://edge.test/v1/streams/${id}/events?token=${token.token}`);
    const events = await okData(api().GET('/v1/streams/{id}/events', { ...path(id), params: { path: { id }, query: { since: 0, limit: 10 } } }));
    expect(events.events.map((e) => e.type)).toEqual(['created', 'updated', 'key_rotated']);
    expect(events).toMatchObject({ nextSince: events.events[2]!.seq, hasMore: false });

    // The same path with Upgrade: websocket is the documented 101 (a raw fetch: the client speaks HTTP only).
    const upgraded = await SELF.fetch(`${BASE}/v1/streams/${id}/events?token=${token.token}`, { headers: { upgrade: 'websocket' } });
    checkAnswer('GET', '/v1/streams/{id}/events', upgraded.status, null, '');
    upgraded.webSocket!.accept();
    upgraded.webSocket!.close(1000, 'done');

    const idle = await api().POST('/v1/streams/{id}/end', path(id));
    expect(idle.error).toEqual({ error: { code: 'invalid_transition', message: expect.stringContaining('idle') } });
    expect((await api().DELETE('/v1/streams/{id}', path(id))).response.status).toBe(204);
    expect((await api().GET('/v1/streams/{id}', path(id))).error?.error.code).toBe('stream_not_found');
  });

  it('answers bad input and a wrong token with the documented error body', async () => {
    const bad = await api().POST('/v1/streams', { body: { partSeconds: 5 } });
    expect(bad.error).toEqual({ error: { code: 'bad_request', message: 'partSeconds: Too big: expected number to be <=1' } });
    const outsider = checkedClient('not-the-token');
    expect((await outsider.GET('/v1/streams')).error).toEqual({ error: { code: 'unauthorized', message: 'invalid bearer token' } });
    expect((await outsider.GET('/v1/metrics')).response.status).toBe(401);
  });

  it('lists, reads and deletes the recording of a live session that was ended through the API', async () => {
    const { id, streamKey } = await okData(api().POST('/v1/streams', { body: { record: true } }));
    const { epoch } = (await (await publish(streamKey)).json()) as { epoch: number };
    expect((await signed(INTERNAL_API.renditions(id), rendition(epoch))).status).toBe(200);
    expect((await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0, 1, 2], 1000))).status).toBe(200);

    const during = await okData(api().GET('/v1/streams/{id}/recordings', path(id)));
    expect(during.recordings.map((r) => [r.status, r.segments, r.playback.hls])).toEqual([['recording', 3, null]]);
    const ended = await okData(api().POST('/v1/streams/{id}/end', path(id)));
    expect(ended).toMatchObject({ status: 'ended', record: true, storage: { bytes: 3000 } });

    const rid = during.recordings[0]!.id;
    const ready = await okData(api().GET('/v1/streams/{id}/recordings/{rid}', { params: { path: { id, rid } } }));
    expect(ready).toMatchObject({ status: 'ready', durationSeconds: 6, bytes: 3000, playback: { hls: `${BASE}/vod/${id}/${rid}/master.m3u8` } });
    const deleted = await api().DELETE('/v1/streams/{id}/recordings/{rid}', { params: { path: { id, rid } } });
    expect([deleted.response.status, deleted.data?.status]).toEqual([202, 'deleted']);
    expect((await api().GET('/v1/streams/{id}/recordings/{rid}', { params: { path: { id, rid: 'rnosuchrecording' } } })).error?.error.code).toBe('not_found');
  });

  it('refuses a token for a public stream, then mints one once the stream is signed: live and recording URLs carry it', async () => {
    const { id, streamKey } = await okData(api().POST('/v1/streams', { body: { record: true } }));
    const { epoch } = (await (await publish(streamKey)).json()) as { epoch: number };
    expect((await signed(INTERNAL_API.renditions(id), rendition(epoch))).status).toBe(200);
    expect((await signed(INTERNAL_API.segments(id), segments(epoch, '720p', [0, 1], 1000))).status).toBe(200);

    const refused = await api().POST('/v1/streams/{id}/playback-tokens', { ...path(id), body: {} });
    expect([refused.response.status, refused.error]).toEqual([
      409,
      { error: { code: 'conflict', message: `stream ${id} is public: set playbackPolicy "signed" (PATCH /v1/streams/${id}) before minting tokens` } },
    ]);
    expect((await okData(api().PATCH('/v1/streams/{id}', { ...path(id), body: { playbackPolicy: 'signed' } }))).playbackPolicy).toBe('signed');

    const before = Date.now();
    const minted = await okData(api().POST('/v1/streams/{id}/playback-tokens', { ...path(id), body: { ttlSeconds: 600, viewerId: 'viewer-42' } }));
    const carried = `token=${encodeURIComponent(minted.token)}`;
    const rid = (await okData(api().GET('/v1/streams/{id}/recordings', path(id)))).recordings[0]!.id;
    expect(minted).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expiresAt: expect.any(Number),
      viewerId: 'viewer-42',
      playback: { hls: `${BASE}/live/${id}/master.m3u8?${carried}`, dash: `${BASE}/live/${id}/manifest.mpd?${carried}` },
      recordings: [{ id: rid, status: 'recording', thumbnailUrl: `${BASE}/vod/${id}/${rid}/poster.jpg?${carried}`, playback: { hls: null, mp4: null } }],
    });
    // Whole seconds: the token's exp claim.
    expect(minted.expiresAt - Math.floor(before / 1000) * 1000).toBeGreaterThanOrEqual(600_000);
    expect(minted.expiresAt - before).toBeLessThanOrEqual(600_000 + 5_000);

    expect((await okData(api().POST('/v1/streams/{id}/end', path(id)))).playbackPolicy).toBe('signed');
    const after = await okData(api().POST('/v1/streams/{id}/playback-tokens', { ...path(id), body: {} }));
    const again = `token=${encodeURIComponent(after.token)}`;
    expect(after.recordings).toEqual([
      { id: rid, status: 'ready', thumbnailUrl: `${BASE}/vod/${id}/${rid}/poster.jpg?${again}`, playback: { hls: `${BASE}/vod/${id}/${rid}/master.m3u8?${again}`, mp4: `${BASE}/vod/${id}/${rid}/download.mp4?${again}` } },
    ]);
    expect((await okData(api().GET('/v1/streams/{id}/recordings/{rid}', { params: { path: { id, rid } } }))).playbackPolicy).toBe('signed');
  });

  it('reads a stream’s closed minute in its analytics history and in the fleet’s, and refuses a bad time', async () => {
    await awayFromMinuteEnd();
    const { id } = await okData(api().POST('/v1/streams', { body: {} }));
    const stub = streamStub(env, id);
    const batch = { sessions: ['oa-1', 'oa-2', 'oa-3'].map((sid) => ({ sid, rendition: '720p', lastSeen: Date.now() })), qoe: { ...emptyQoe(), errors: 1, playedMs: 3000, rebufferMs: 1000 } };
    expect((await stub.recordViewers(packBatch(batch))).ok).toBe(true);
    // Back-date the open minute (an hour ago) so the alarm closes it and pushes it to the fleet.
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
    await runInDurableObject(stub, (_o: StreamDO, state) => void state.storage.sql.exec('UPDATE analytics_open SET minute = ?', at));
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const point = { t: at, currentViewers: 3, peakViewers: 3, uniqueViewers: 3, ingestKbps: null, startupP50Ms: null, rebufferRatio: 0.25, errors: 1 };
    // `from` and `to` are strings on the wire: ISO 8601 or ms since epoch.
    const query = { from: new Date(at).toISOString(), to: String(at + 2 * 60_000), step: '1m' as const };
    expect(await okData(api().GET('/v1/streams/{id}/analytics', { params: { path: { id }, query } }))).toEqual({
      streamId: id,
      from: at,
      to: at + 2 * 60_000,
      step: '1m',
      points: [point, { ...point, t: at + 60_000, currentViewers: 0, peakViewers: 0, uniqueViewers: 0, rebufferRatio: null, errors: 0 }],
    });
    // The push to FleetAnalytics is not awaited by the alarm.
    await vi.waitFor(async () => {
      const fleet = await okData(api().GET('/v1/analytics', { params: { query: { from: String(at), to: String(at + 60_000) } } }));
      expect(fleet).toEqual({ from: at, to: at + 60_000, step: '1m', points: [{ ...point, liveStreams: 0, activeStreams: 1 }] });
    }, { timeout: 10_000, interval: 50 });
    const bad = await api().GET('/v1/analytics', { params: { query: { from: 'yesterday' } } });
    expect(bad.error).toEqual({ error: { code: 'bad_request', message: 'from: must be ms since epoch or an ISO 8601 date-time with a zone' } });
  });

  it('registers a webhook endpoint, lists and reads it, shows a failed delivery attempt, and deletes it', async () => {
    const url = 'https://hooks.test/openapi';
    // The hub's fetch runs in this isolate: the receiver answers 500, so the delivery stays pending with one failed attempt.
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response(null, { status: 500 }));
    const created = await okData(api().POST('/v1/webhooks', { body: { url, events: ['stream.created'] } }));
    const { secret, ...endpoint } = created;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toEqual({ id: expect.stringMatching(/^wh_[a-z0-9]{16}$/), url, events: ['stream.created'], createdAt: expect.any(Number), disabledAt: null, disabledReason: null });
    expect((await okData(api().GET('/v1/webhooks'))).webhooks).toContainEqual(endpoint);
    expect(await okData(api().GET('/v1/webhooks/{id}', path(endpoint.id)))).toEqual(endpoint);

    const stream = await okData(api().POST('/v1/streams', { body: {} }));
    const delivery = await vi.waitFor(
      async () => {
        await runDurableObjectAlarm(webhookHubStub(env));
        const page = await okData(api().GET('/v1/webhooks/{id}/deliveries', { params: { path: { id: endpoint.id }, query: { limit: 10 } } }));
        const first = page.deliveries.find((d) => d.attempts.length === 1);
        if (first === undefined) throw new Error('no attempt yet');
        return first;
      },
      { timeout: 5000, interval: 20 },
    );
    expect(delivery).toEqual({
      messageId: expect.stringMatching(new RegExp(`^msg_${stream.id}_\\d+$`)),
      type: 'stream.created',
      eventAt: expect.any(Number),
      status: 'pending',
      createdAt: expect.any(Number),
      nextAttemptAt: expect.any(Number),
      attempts: [{ at: expect.any(Number), statusCode: 500, error: null, durationMs: expect.any(Number), nextRetryAt: delivery.nextAttemptAt }],
    });

    expect((await api().DELETE('/v1/webhooks/{id}', path(endpoint.id))).response.status).toBe(204);
    expect((await api().GET('/v1/webhooks/{id}/deliveries', path(endpoint.id))).error).toEqual({ error: { code: 'not_found', message: `webhook ${endpoint.id} not found` } });
  });

  it('reads the isolate stats and the Prometheus metrics', async () => {
    expect(Object.keys(await okData(api().GET('/v1/edge/stats')))).toEqual(['isolate', 'uptimeMs', 'playlistRequests', 'beacons', 'doCalls', 'shardCalls']);
    expect(await okData(api().GET('/v1/metrics', { parseAs: 'text' }))).toContain('# TYPE livestream_total_viewers gauge');
  });

  // Last in this file: the tests above are what covers the document.
  it('left no documented operation unexercised', () => {
    const documented = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
    expect(documented.filter((op) => !checked.has(op))).toEqual([]);
    expect(documented.length).toBe(23);
  });
});
