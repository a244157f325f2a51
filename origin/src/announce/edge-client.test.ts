import { beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { PublishRequest } from '../../../shared/src/schemas.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from '../../../shared/src/signing/request-signature.ts';
import { EDGE_CALL_ATTEMPTS, EDGE_RETRY_BASE_MS, HttpEdgeClient } from './edge-client.ts';

const SECRET = 'edge-origin-shared-secret';
const STREAM = 'abcdefgh12345678';
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

interface Call {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: Uint8Array;
  at: number;
}

/** A fetch that records each call and answers from `answers` in turn (a thrown Error is a network failure). */
function fakeFetch(answers: (() => Response)[]) {
  const calls: Call[] = [];
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({
      url: String(input),
      method: init?.method,
      headers: init?.headers as Record<string, string>,
      body: init?.body as Uint8Array,
      at: clock,
    });
    const answer = answers[calls.length - 1];
    if (!answer) throw new Error(`unexpected call ${calls.length}`);
    return answer();
  };
  return { fetch: fn as typeof fetch, calls };
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const text = (status: number, body: string) => () => new Response(body, { status });
const refused = () => () => {
  throw new TypeError('fetch failed: connect ECONNREFUSED 127.0.0.1:8787');
};

const publishRequest: PublishRequest = {
  streamKey: `${STREAM}_AbCdEfGhIjKlMnOpQrStUvWxYz012345`,
  nodeId: 'origin-1',
  source: { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30, videoKbps: 2500 },
};

const grant = {
  streamId: STREAM,
  epoch: 3,
  ladder: { rungs: [{ name: '720p', height: 720, videoKbps: 2800 }], audioKbps: 96 },
  segmentSeconds: 2,
  firstMsn: 41,
  partSeconds: 0.333,
};

const heartbeat = { epoch: 3, metrics: { bitrateKbps: 2500, fps: 30, speed: 1, droppedFrames: 0 } };

/** A virtual clock: backoff sleeps advance it at once, so retries are exact and instant. */
let clock = T0;
const now = () => clock;
const sleep = async (ms: number) => {
  clock += ms;
};

/** Waits for `call` to settle, to its value or its rejection. */
async function settle<T>(call: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

beforeEach(() => {
  clock = T0;
});

describe('HttpEdgeClient', () => {
  it('retries with the documented budget', () => {
    expect(EDGE_CALL_ATTEMPTS).toBe(4);
    expect(EDGE_RETRY_BASE_MS).toBe(100);
  });

  it('POSTs a signed JSON body that verifyRequest accepts', async () => {
    const { fetch, calls } = fakeFetch([json(200, { ok: true })]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test/', secret: SECRET, fetch });

    await client.heartbeat(STREAM, heartbeat);

    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.url).toBe(`http://edge.test/internal/v1/streams/${STREAM}/heartbeat`);
    expect(call.method).toBe('POST');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.headers[TIMESTAMP_HEADER]).toBe(String(T0 / 1000));
    expect(call.headers[SIGNATURE_HEADER]).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(new TextDecoder().decode(call.body))).toEqual(heartbeat);
    const verdict = await verifyRequest(
      SECRET,
      {
        method: 'POST',
        path: new URL(call.url).pathname,
        timestamp: call.headers[TIMESTAMP_HEADER]!,
        signature: call.headers[SIGNATURE_HEADER]!,
        body: call.body,
      },
      T0 / 1000,
    );
    expect(verdict).toBe('ok');
    expect(await verifyRequest('some-other-secret-value', { method: 'POST', path: new URL(call.url).pathname, timestamp: call.headers[TIMESTAMP_HEADER]!, signature: call.headers[SIGNATURE_HEADER]!, body: call.body }, T0 / 1000)).toBe('mismatch');
  });

  it('sends each call to its internal API path', async () => {
    const { fetch, calls } = fakeFetch([json(200, grant), json(200, {}), json(200, {}), json(200, {}), json(200, {})]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'https://edge.example.com', secret: SECRET, fetch });

    await client.publish(publishRequest);
    await client.announceRendition(STREAM, {
      epoch: 3,
      rendition: { name: '720p', width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, declaredBandwidth: 2_928_000, initFile: 'init-3.mp4' },
    });
    await client.announceSegments(STREAM, {
      epoch: 3,
      segments: [{ rendition: '720p', msn: 41, epoch: 3, duration: 2, programDateTime: T0, file: 'seg-41-e3.m4s', bytes: 700_000, gap: false }],
    });
    await client.heartbeat(STREAM, heartbeat);
    await client.end(STREAM, { epoch: 3, reason: 'publisher_stopped' });

    expect(calls.map((c) => c.url)).toEqual([
      'https://edge.example.com/internal/v1/publish',
      `https://edge.example.com/internal/v1/streams/${STREAM}/renditions`,
      `https://edge.example.com/internal/v1/streams/${STREAM}/segments`,
      `https://edge.example.com/internal/v1/streams/${STREAM}/heartbeat`,
      `https://edge.example.com/internal/v1/streams/${STREAM}/end`,
    ]);
    expect(JSON.parse(new TextDecoder().decode(calls[4]!.body))).toEqual({ epoch: 3, reason: 'publisher_stopped' });
  });

  it('parses the publish grant, dropping fields it does not know', async () => {
    const { fetch } = fakeFetch([json(200, { ...grant, extra: 'ignored' })]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    expect(await client.publish(publishRequest)).toEqual(grant);
  });

  it('fills the ladder audio default in a grant that omits it', async () => {
    const { fetch } = fakeFetch([json(200, { ...grant, ladder: { rungs: grant.ladder.rungs } })]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    expect((await client.publish(publishRequest)).ladder).toEqual({ rungs: grant.ladder.rungs, audioKbps: 128 });
  });

  it('refuses a malformed grant', async () => {
    const { fetch } = fakeFetch([json(200, { ...grant, epoch: 0 })]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    await expect(client.publish(publishRequest)).rejects.toBeInstanceOf(ZodError);
  });

  it('turns a 4xx error body into an EdgeliveError with its code, without retrying', async () => {
    const { fetch, calls } = fakeFetch([json(403, { error: { code: 'stream_key_invalid', message: 'unknown stream key' } })]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    const { error } = await settle(client.publish(publishRequest));

    expect(error).toBeInstanceOf(EdgeliveError);
    expect(error).toMatchObject({ code: 'stream_key_invalid', message: 'unknown stream key', status: 403 });
    expect(calls).toHaveLength(1);
  });

  it('calls a 4xx without an error body bad_request, naming the status and path', async () => {
    const { fetch, calls } = fakeFetch([text(404, 'Not Found')]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    const { error } = await settle(client.end(STREAM, { epoch: 3, reason: 'node_shutdown' }));

    expect(error).toBeInstanceOf(EdgeliveError);
    expect(error).toMatchObject({ code: 'bad_request', message: `edge answered 404 for /internal/v1/streams/${STREAM}/end` });
    expect(calls).toHaveLength(1);
  });

  it('retries a 5xx EDGE_CALL_ATTEMPTS times, backing off 100, 200, 400 ms, then throws', async () => {
    const { fetch, calls } = fakeFetch([text(503, ''), text(502, 'bad gateway'), text(500, ''), text(503, 'busy')]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    const { error } = await settle(client.heartbeat(STREAM, heartbeat));

    expect(error).toBeInstanceOf(EdgeliveError);
    expect(error).toMatchObject({ code: 'upstream_failed', message: `edge answered 503 for /internal/v1/streams/${STREAM}/heartbeat` });
    expect(calls).toHaveLength(EDGE_CALL_ATTEMPTS);
    expect(calls.map((c) => c.at - T0)).toEqual([0, 100, 300, 700]);
    expect(clock - T0).toBe(700); // no wait after the last attempt
  });

  it('keeps the code of a 5xx error body after the last attempt', async () => {
    const failure = json(500, { error: { code: 'internal', message: 'durable object reset' } });
    const { fetch, calls } = fakeFetch([failure, failure, failure, failure]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    const { error } = await settle(client.heartbeat(STREAM, heartbeat));

    expect(error).toMatchObject({ name: 'EdgeliveError', code: 'internal', message: 'durable object reset' });
    expect(calls).toHaveLength(4);
  });

  it('succeeds when a retry after a 5xx succeeds', async () => {
    const { fetch, calls } = fakeFetch([text(503, ''), json(200, grant)]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    expect(await settle(client.publish(publishRequest))).toEqual({ value: grant });
    expect(calls).toHaveLength(2);
  });

  it('retries a network error and returns the later success', async () => {
    const { fetch, calls } = fakeFetch([refused(), json(200, grant)]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    expect(await settle(client.publish(publishRequest))).toEqual({ value: grant });
    expect(calls.map((c) => c.at - T0)).toEqual([0, 100]);
  });

  it('signs every attempt with the time it is sent', async () => {
    const { fetch, calls } = fakeFetch([refused(), refused(), refused(), json(200, {})]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    await settle(client.heartbeat(STREAM, heartbeat));

    // 0, 100, 300 and 700 ms after T0 all fall in the same second.
    expect(calls.map((c) => c.headers[TIMESTAMP_HEADER])).toEqual(Array(4).fill(String(T0 / 1000)));
    for (const c of calls) {
      expect(
        await verifyRequest(SECRET, { method: 'POST', path: new URL(c.url).pathname, timestamp: c.headers[TIMESTAMP_HEADER]!, signature: c.headers[SIGNATURE_HEADER]!, body: c.body }, T0 / 1000),
      ).toBe('ok');
    }
  });

  it('throws upstream_failed naming the URL when the edge stays unreachable', async () => {
    const { fetch, calls } = fakeFetch([refused(), refused(), refused(), refused()]);
    const client = new HttpEdgeClient({ now, sleep, baseUrl: 'http://edge.test', secret: SECRET, fetch });

    const { error } = await settle(client.publish(publishRequest));

    expect(error).toBeInstanceOf(EdgeliveError);
    expect(error).toMatchObject({
      code: 'upstream_failed',
      message: 'edge unreachable at http://edge.test/internal/v1/publish: fetch failed: connect ECONNREFUSED 127.0.0.1:8787',
    });
    expect((error as EdgeliveError).cause).toBeInstanceOf(TypeError);
    expect(calls).toHaveLength(4);
  });
});
