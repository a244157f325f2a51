/** Test-only helpers: call the real Worker (SELF) as an admin, as the origin (signed) or as a viewer. */
import { SELF } from 'cloudflare:test';
import { expect } from 'vitest';
import type { paths } from '../../../shared/src/api/management-api-types.ts';
import { managementClient, okData, type ManagementClient } from '../../../shared/src/api/management-client.ts';
import { INTERNAL_API, segmentFileName } from '../../../shared/src/internal-api.ts';
import type { SourceInfo } from '../../../shared/src/types.ts';
import { signSession } from '../viewers/signed-session.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from '../../../shared/src/signing/request-signature.ts';

/** Host the tests talk to; PUBLIC_BASE_URL is https://edge.test in edge/vitest.config.ts. */
export const BASE = 'https://edge.test';
export const ADMIN_TOKEN = 'test-admin';
export const ORIGIN_SECRET = 'test-origin-secret';

/** The typed management client on the real Worker, with the admin bearer token. */
export function adminApi(token = ADMIN_TOKEN): ManagementClient {
  return managementClient(BASE, token, { fetch: (request) => SELF.fetch(request) });
}

/** A raw management API call with the admin bearer token: for tests of malformed bodies, wrong tokens and exact error answers. */
export function admin(method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return SELF.fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
}

/** A signed origin → edge call; `tamper` lets a test break one part of the signature. */
export async function signed(
  path: string,
  body: unknown,
  tamper: { timestamp?: number; signature?: string; secret?: string; omit?: boolean } = {},
): Promise<Response> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const timestamp = tamper.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = tamper.signature ?? (await signRequest(tamper.secret ?? ORIGIN_SECRET, 'POST', path, timestamp, bytes));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!tamper.omit) {
    headers[TIMESTAMP_HEADER] = String(timestamp);
    headers[SIGNATURE_HEADER] = signature;
  }
  return SELF.fetch(`${BASE}${path}`, { method: 'POST', headers, body: bytes });
}

/** A session id the test edge signed, named after `label` (padded to the 22-character random part). */
export function session(label: string): Promise<string> {
  return signSession(ORIGIN_SECRET, label.padEnd(22, '0').slice(0, 22));
}

/** A new (idle) stream's id, created through the management API: playback only knows ids the edge issued. */
export async function createdStreamId(): Promise<string> {
  return (await createStream()).id;
}

/** A playback request (no auth). */
export function viewer(path: string): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`);
}

/** Reads a JSON body with a type the test asserts anyway. */
/** A playlist's text (workerd warns on `.text()` of a media type it does not treat as text). */
export async function text(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

/** Asserts an error answer: its status, `no-store`, and the JSON error shape with this code and message. */
export async function expectError(res: Response, status: number, code: string, message: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ error: { code, message } });
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** A source the origin accepts. */
export const H264_AAC: SourceInfo = { videoCodec: 'h264', audioCodec: 'aac', width: 1920, height: 1080, fps: 30, videoKbps: 6000 };

/** The JSON body of `POST /v1/streams`. */
export type CreateStreamBody = NonNullable<paths['/v1/streams']['post']['requestBody']>['content']['application/json'];

/** Creates a stream through the typed client and returns its id and key; anything but 201 throws. */
export async function createStream(body: CreateStreamBody = {}): Promise<{ id: string; streamKey: string }> {
  return okData(adminApi().POST('/v1/streams', { body }));
}

/** Publishes with a key; returns the raw response. */
export function publish(streamKey: string, source: SourceInfo = H264_AAC, nodeId = 'node-a'): Promise<Response> {
  return signed(INTERNAL_API.publish, { streamKey, nodeId, source });
}

/** Creates a stream and makes it live; returns id, key and epoch. */
export async function liveStream(body: CreateStreamBody = {}): Promise<{ id: string; streamKey: string; epoch: number }> {
  const stream = await createStream(body);
  const res = await publish(stream.streamKey);
  if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
  const grant = await json<{ epoch: number }>(res);
  return { ...stream, epoch: grant.epoch };
}

/** A rendition announce body. */
export function rendition(epoch: number, name = '720p', overrides: Record<string, unknown> = {}) {
  return {
    epoch,
    rendition: { name, width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, declaredBandwidth: 2_928_000, initFile: `init-${epoch}.mp4`, ...overrides },
  };
}

/** Wall clock of segment 0 in the tests: 2025-01-01T00:00:00.000Z. */
export const T0 = Date.UTC(2025, 0, 1);

/**
 * A segment announce body under envelope `epoch` for msns of one rendition, 2 s and `bytes` each,
 * made in `segmentEpoch` (the envelope's unless a test lists segments queued in an earlier epoch).
 */
export function segments(epoch: number, name: string, msns: number[], bytes = 500_000, duration = 2, segmentEpoch = epoch) {
  return {
    epoch,
    segments: msns.map((msn) => ({ rendition: name, msn, epoch: segmentEpoch, duration, programDateTime: T0 + msn * 2000, file: segmentFileName(msn, segmentEpoch), bytes })),
  };
}

/** Waits out the last 3 s of a minute: the alarm at the minute's end would close the minute a test is filling. */
export async function awayFromMinuteEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 3000) await new Promise((r) => setTimeout(r, left + 100));
}
