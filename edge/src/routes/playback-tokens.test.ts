import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INTERNAL_API, partFileName, thumbnailObjectKey } from '../../../shared/src/internal-api.ts';
import { keyId, PLAYBACK_TOKEN_AUDIENCE } from '../playback/playback-token.ts';
import { StreamDO } from '../stream-do/stream-do.ts';
import { okData } from '../../../shared/src/api/management-client.ts';
import { admin, adminApi, BASE, liveStream, rendition, segments, signed, viewer, text, expectError } from '../test-support/edge-client.ts';
import { EDGE_TEST_BINDINGS } from '../test-support/test-bindings.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const KEY = EDGE_TEST_BINDINGS.PLAYBACK_SIGNING_KEY;
const INF_720 = '#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000';
const INF_360 = '#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=640x360,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000';

/** Parts `from..to` of segment `msn` (1/3 s each, part 0 independent). */
function parts(id: string, epoch: number, name: string, msn: number, from: number, to: number) {
  const list = [];
  for (let part = from; part <= to; part++) list.push({ rendition: name, msn, part, epoch, duration: 0.33334, independent: part === 0, last: false, file: partFileName(msn, part, epoch) });
  return signed(INTERNAL_API.parts(id), { epoch, parts: list });
}

/** A live `signed` LL-HLS stream: 720p and 360p with segments 0 and 1, parts 0-1 of segment 2 on 720p, part 0 on 360p. */
async function signedStream(body: Record<string, unknown> = {}) {
  const s = await liveStream({ playbackPolicy: 'signed', ...body });
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '720p'));
  await signed(INTERNAL_API.renditions(s.id), rendition(s.epoch, '360p', { width: 640, height: 360 }));
  for (const name of ['720p', '360p']) await signed(INTERNAL_API.segments(s.id), segments(s.epoch, name, [0, 1]));
  return s;
}

/** `POST /v1/streams/:id/playback-tokens` through the typed client; anything but 2xx throws. */
function mint(id: string, body: { ttlSeconds?: number; viewerId?: string } = {}) {
  return okData(adminApi().POST('/v1/streams/{id}/playback-tokens', { params: { path: { id } }, body }));
}

/** A token minted by jose directly with the edge's key: any exp, any sub. */
async function handMade(claims: { sub: string; exp: number; iat?: number }, secret: string = KEY): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', kid: await keyId(secret) })
    .setSubject(claims.sub)
    .setAudience(PLAYBACK_TOKEN_AUDIENCE)
    .setIssuedAt(claims.iat ?? claims.exp - 60)
    .setExpirationTime(claims.exp)
    .sign(new TextEncoder().encode(secret));
}

describe('playbackPolicy', () => {
  it('is public by default, set at create and changed by PATCH', async () => {
    const api = adminApi();
    const created = await okData(api.POST('/v1/streams', { body: {} }));
    expect(created.playbackPolicy).toBe('public');
    expect((await okData(api.POST('/v1/streams', { body: { playbackPolicy: 'signed' } }))).playbackPolicy).toBe('signed');
    expect((await okData(api.PATCH('/v1/streams/{id}', { params: { path: { id: created.id } }, body: { playbackPolicy: 'signed' } }))).playbackPolicy).toBe('signed');
    expect((await okData(api.GET('/v1/streams/{id}', { params: { path: { id: created.id } } }))).playbackPolicy).toBe('signed');
    // Raw: a value the typed client would not let through.
    const bad = await admin('POST', '/v1/streams', { playbackPolicy: 'private' });
    expect(bad.status).toBe(400);
  });
});

describe('POST /v1/streams/:id/playback-tokens', () => {
  it('answers 201 with the token, its expiry and the playback URLs carrying it', async () => {
    const { id } = await signedStream();
    const before = Date.now();
    const answer = await mint(id, { ttlSeconds: 120, viewerId: 'viewer-42' });
    expect(Object.keys(answer).sort()).toEqual(['expiresAt', 'playback', 'recordings', 'token', 'viewerId']);
    // Not recording: no recording to list (playback-tokens.vod.test.ts lists one).
    expect(answer.recordings).toEqual([]);
    expect(answer.playback).toEqual({ hls: `${BASE}/live/${id}/master.m3u8?token=${answer.token}`, dash: `${BASE}/live/${id}/manifest.mpd?token=${answer.token}` });
    expect(answer.expiresAt % 1000).toBe(0);
    expect(answer.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 120_000);
    expect(answer.expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    expect(answer.token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses a public stream (409), an unknown one (404), bad bodies (400) and callers without the admin token (401)', async () => {
    const pub = await liveStream();
    await expectError(await admin('POST', `/v1/streams/${pub.id}/playback-tokens`, {}), 409, 'conflict', `stream ${pub.id} is public: set playbackPolicy "signed" (PATCH /v1/streams/${pub.id}) before minting tokens`);
    expect((await admin('POST', '/v1/streams/zzzzzzzzzzzzzzzz/playback-tokens', {})).status).toBe(404);
    const { id } = await signedStream();
    for (const body of [{ ttlSeconds: 5 }, { ttlSeconds: 86_401 }, { ttlSeconds: 1.5 }, { viewerId: '' }, { viewerId: 'has space' }, { extra: 1 }]) {
      expect((await admin('POST', `/v1/streams/${id}/playback-tokens`, body)).status, JSON.stringify(body)).toBe(400);
    }
    await expectError(await admin('POST', `/v1/streams/${id}/playback-tokens`, {}, 'wrong'), 401, 'unauthorized', 'invalid bearer token');
  });
});

describe('playback of a signed stream', () => {
  it('answers 401 without a token and 403 for a bad, foreign, expired or wrongly keyed one, on playlists, MPD and media', async () => {
    const { id } = await signedStream();
    const other = await signedStream();
    const now = Math.floor(Date.now() / 1000);
    const unauthorized = `stream ${id} is signed: add ?token= with a token from POST /v1/streams/${id}/playback-tokens`;
    const paths = [`/live/${id}/master.m3u8`, `/live/${id}/720p/index.m3u8`, `/live/${id}/manifest.mpd`, `/live/${id}/720p/seg-0-e1.m4s`];
    const refusals: [string, string][] = [
      ['garbage', 'playback token is not a well-formed token'],
      [(await mint(other.id)).token, 'playback token is for another stream'],
      [await handMade({ sub: id, exp: now - 60 }), 'playback token has expired'],
      [await handMade({ sub: id, exp: now + 600 }, 'some-other-signing-key-0123456789'), 'playback token is signed with a key this edge does not hold (unknown kid)'],
    ];
    for (const path of paths) {
      await expectError(await viewer(path), 401, 'unauthorized', unauthorized);
      for (const [token, message] of refusals) await expectError(await viewer(`${path}?token=${token}`), 403, 'forbidden', message);
    }
  });

  it('checks a presented token before any StreamDO call', async () => {
    const { id } = await signedStream();
    const master = vi.spyOn(StreamDO.prototype, 'masterPlaylist');
    const media = vi.spyOn(StreamDO.prototype, 'mediaPlaylist');
    const expired = await handMade({ sub: id, exp: Math.floor(Date.now() / 1000) - 60 });
    for (const path of [`/live/${id}/master.m3u8`, `/live/${id}/360p/index.m3u8`, `/live/${id}/360p/seg-1-e1.m4s`]) {
      expect((await viewer(`${path}?token=${expired}`)).status).toBe(403);
    }
    expect(master).not.toHaveBeenCalled();
    expect(media).not.toHaveBeenCalled();
  });

  it('carries the token into every variant URI of the master, private to the viewer', async () => {
    const { id } = await signedStream();
    const { token } = await mint(id);
    const res = await viewer(`/live/${id}/master.m3u8?sid=viewer0001&token=${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, max-age=2');
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
${INF_720}
720p/index.m3u8?sid=viewer0001&token=${token}
${INF_360}
360p/index.m3u8?sid=viewer0001&token=${token}
`);
  });

  it('carries the token into init, segments, parts, the preload hint and rendition reports of an LL-HLS media playlist', async () => {
    const { id, epoch } = await signedStream();
    await parts(id, epoch, '720p', 2, 0, 1);
    await parts(id, epoch, '360p', 2, 0, 0);
    const { token } = await mint(id);
    const res = await viewer(`/live/${id}/720p/index.m3u8?token=${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, max-age=1');
    const t = `token=${token}`;
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=0.999
#EXT-X-PART-INF:PART-TARGET=0.333
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4?${t}"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0-e1.m4s?${t}
#EXTINF:2.000,
seg-1-e1.m4s?${t}
#EXT-X-PART:DURATION=0.33334,URI="part-2-0-e1.m4s?${t}",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="part-2-1-e1.m4s?${t}"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-2-2-e1.m4s?${t}"
#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8?${t}",LAST-MSN=2,LAST-PART=0
`);
  });

  it('carries the token into the MPD SegmentTemplate URLs', async () => {
    const { id, epoch } = await liveStream({ playbackPolicy: 'signed' });
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
    const origin = Date.now() - 60_000;
    const timed = [0, 1].map((msn) => ({ rendition: '720p', msn, epoch, duration: 2, programDateTime: origin + msn * 2000, timelineOrigin: origin, file: `seg-${msn}-e${epoch}.m4s`, bytes: 400_000 }));
    await signed(INTERNAL_API.segments(id), { epoch, segments: timed });
    const { token } = await mint(id);
    const res = await viewer(`/live/${id}/manifest.mpd?token=${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, max-age=1');
    const body = await res.text();
    expect(body).toContain(`initialization="720p/init-${epoch}.mp4?token=${token}" media="720p/seg-$Number$-e${epoch}.m4s?token=${token}">`);
    expect(body.match(/token=/g)).toHaveLength(2);
  });

  it('renders a playlist once for all viewers and gives each only its own token', async () => {
    const { id } = await signedStream({ lowLatency: false });
    const a = (await mint(id, { viewerId: 'a' })).token;
    const b = (await mint(id, { viewerId: 'b' })).token;
    expect(a).not.toBe(b);
    // The playlist's data comes from the StreamDO once: one subscription (or one render call).
    const calls = [vi.spyOn(StreamDO.prototype, 'subscribePlaylists'), vi.spyOn(StreamDO.prototype, 'mediaPlaylist')];
    const bodyA = await text(await viewer(`/live/${id}/720p/index.m3u8?token=${a}`));
    await new Promise((r) => setTimeout(r, 50)); // the cache put lands after the answer
    const bodyB = await text(await viewer(`/live/${id}/720p/index.m3u8?token=${b}`));
    expect(calls.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBe(1);
    expect(bodyA).toContain(`seg-1-e1.m4s?token=${a}\n`);
    expect(bodyA).not.toContain(b);
    expect(bodyB).toContain(`seg-1-e1.m4s?token=${b}\n`);
    expect(bodyB).not.toContain(a);
    expect(bodyB.replaceAll(b, a)).toBe(bodyA);
  });

  it('serves media to any valid token from one cached copy, still immutable and public', async () => {
    const { id } = await signedStream();
    await env.MEDIA.put(`live/${id}/720p/seg-1-e1.m4s`, new Uint8Array([7, 8, 9]));
    const a = (await mint(id)).token;
    const b = (await mint(id)).token;
    const first = await viewer(`/live/${id}/720p/seg-1-e1.m4s?token=${a}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect([...new Uint8Array(await first.arrayBuffer())]).toEqual([7, 8, 9]);
    await new Promise((r) => setTimeout(r, 50));
    // Gone from the bucket (and no origin): only the cached copy can answer the second viewer.
    await env.MEDIA.delete(`live/${id}/720p/seg-1-e1.m4s`);
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response('no origin here', { status: 404 }));
    const second = await viewer(`/live/${id}/720p/seg-1-e1.m4s?token=${b}`);
    expect(second.status).toBe(200);
    expect([...new Uint8Array(await second.arrayBuffer())]).toEqual([7, 8, 9]);
    // The cached copy does not open the file to a viewer without a token.
    expect((await viewer(`/live/${id}/720p/seg-1-e1.m4s`)).status).toBe(401);
  });

  it('gates the thumbnail like the media', async () => {
    const { id } = await signedStream();
    await env.MEDIA.put(thumbnailObjectKey(id, 'latest.jpg'), new Uint8Array([0xff, 0xd8, 0xff]));
    await expectError(await viewer(`/live/${id}/thumbnail.jpg`), 401, 'unauthorized', `stream ${id} is signed: add ?token= with a token from POST /v1/streams/${id}/playback-tokens`);
    expect((await viewer(`/live/${id}/thumbnail.jpg?token=garbage`)).status).toBe(403);
    const res = await viewer(`/live/${id}/thumbnail.jpg?token=${(await mint(id)).token}`);
    expect(res.status).toBe(200);
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('turns a public stream signed by PATCH: its media refuse viewers without a token at once', async () => {
    const { id } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(1, '720p'));
    await signed(INTERNAL_API.segments(id), segments(1, '720p', [0]));
    await env.MEDIA.put(`live/${id}/720p/seg-0-e1.m4s`, new Uint8Array([1]));
    expect((await viewer(`/live/${id}/720p/seg-0-e1.m4s`)).status).toBe(200);
    await okData(adminApi().PATCH('/v1/streams/{id}', { params: { path: { id } }, body: { playbackPolicy: 'signed' } }));
    expect((await viewer(`/live/${id}/720p/seg-0-e1.m4s`)).status).toBe(401);
    const { token } = await mint(id);
    expect((await viewer(`/live/${id}/720p/seg-0-e1.m4s?token=${token}`)).status).toBe(200);
  });
});

describe('playback of a public stream', () => {
  it('needs no token, keeps shared caching, and still refuses a bad token', async () => {
    const { id } = await liveStream({ lowLatency: false });
    await signed(INTERNAL_API.renditions(id), rendition(1, '720p'));
    await signed(INTERNAL_API.segments(id), segments(1, '720p', [0]));
    const res = await viewer(`/live/${id}/720p/index.m3u8`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await text(res)).not.toContain('token=');
    await expectError(await viewer(`/live/${id}/720p/index.m3u8?token=garbage`), 403, 'forbidden', 'playback token is not a well-formed token');
  });
});
