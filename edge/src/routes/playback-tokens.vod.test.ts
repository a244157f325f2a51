import { env, runInDurableObject } from 'cloudflare:test';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { okData } from '../../../shared/src/api/management-client.ts';
import { INTERNAL_API, mediaObjectKey, posterFileName, thumbnailObjectKey } from '../../../shared/src/internal-api.ts';
import { keyId, PLAYBACK_TOKEN_AUDIENCE } from '../playback/playback-token.ts';
import { StreamDO } from '../stream-do/stream-do.ts';
import { adminApi, BASE, liveStream, rendition, segments, signed, viewer, text, expectError } from '../test-support/edge-client.ts';
import { EDGE_TEST_BINDINGS } from '../test-support/test-bindings.ts';
import { tinyFragment, tinyInit } from '../test-support/tiny-fmp4.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const KEY = EDGE_TEST_BINDINGS.PLAYBACK_SIGNING_KEY;
const INF_720 = '#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000';
const INF_360 = '#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=640x360,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000';
/** A recording ends now and is kept 7 days: its playlists may be cached that long, a few seconds less. */
const SEVEN_DAYS = /^max-age=60479\d$/;

function unauthorized(id: string): string {
  return `stream ${id} is signed: add ?token= with a token from POST /v1/streams/${id}/playback-tokens`;
}

/** A recorded stream (720p and 360p, segments 0-2 of epoch 1), ended: its one recording is ready. */
async function recordedStream(playbackPolicy: 'public' | 'signed' = 'signed'): Promise<{ id: string; rid: string }> {
  const { id, epoch } = await liveStream({ record: true, lowLatency: false, playbackPolicy });
  await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
  await signed(INTERNAL_API.renditions(id), rendition(epoch, '360p', { width: 640, height: 360 }));
  for (const name of ['720p', '360p']) await signed(INTERNAL_API.segments(id), segments(epoch, name, [0, 1, 2]));
  expect((await okData(adminApi().POST('/v1/streams/{id}/end', { params: { path: { id } } }))).status).toBe('ended');
  const { recordings } = await okData(adminApi().GET('/v1/streams/{id}/recordings', { params: { path: { id } } }));
  expect(recordings.map((r) => r.status)).toEqual(['ready']);
  return { id, rid: recordings[0]!.id };
}

/** Stores the 720p init and segments (tiny fMP4) and the recording's poster, as the origin would. */
async function storeMedia(id: string): Promise<void> {
  await env.MEDIA.put(mediaObjectKey(id, '720p', 'init-1.mp4'), tinyInit());
  for (const msn of [0, 1, 2]) {
    await env.MEDIA.put(mediaObjectKey(id, '720p', `seg-${msn}-e1.m4s`), tinyFragment(msn, [{ trackId: 1, baseDecodeTime: msn * 180_000, durations: [180_000] }]));
  }
  await env.MEDIA.put(thumbnailObjectKey(id, posterFileName(1)), new Uint8Array([0xff, 0xd8, 0xff]));
}

/** `POST /v1/streams/:id/playback-tokens` through the typed client; anything but 2xx throws. */
function mint(id: string, body: { ttlSeconds?: number; viewerId?: string } = {}) {
  return okData(adminApi().POST('/v1/streams/{id}/playback-tokens', { params: { path: { id } }, body }));
}

/** A token minted by jose directly with `secret`: any exp, any sub. */
async function handMade(claims: { sub: string; exp: number }, secret: string = KEY): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', kid: await keyId(secret) })
    .setSubject(claims.sub)
    .setAudience(PLAYBACK_TOKEN_AUDIENCE)
    .setIssuedAt(claims.exp - 60)
    .setExpirationTime(claims.exp)
    .sign(new TextEncoder().encode(secret));
}

const settle = () => new Promise((r) => setTimeout(r, 50)); // cache puts land after the answer

describe("a signed stream's recordings", () => {
  it('answer 401 without a token and 403 for a bad, foreign, expired or wrongly keyed one, on every VOD path', async () => {
    const { id, rid } = await recordedStream();
    const other = await recordedStream();
    await storeMedia(id);
    const now = Math.floor(Date.now() / 1000);
    const vod = `/vod/${id}/${rid}`;
    const paths = [`${vod}/master.m3u8`, `${vod}/720p/index.m3u8`, `${vod}/720p/init-1.mp4`, `${vod}/720p/seg-0-e1.m4s`, `${vod}/download.mp4`, `${vod}/poster.jpg`];
    const refusals: [string, string][] = [
      ['garbage', 'playback token is not a well-formed token'],
      [(await mint(other.id)).token, 'playback token is for another stream'],
      [await handMade({ sub: id, exp: now - 60 }), 'playback token has expired'],
      [await handMade({ sub: id, exp: now + 600 }, 'some-other-signing-key-0123456789'), 'playback token is signed with a key this edge does not hold (unknown kid)'],
    ];
    for (const path of paths) {
      await expectError(await viewer(path), 401, 'unauthorized', unauthorized(id));
      for (const [token, message] of refusals) await expectError(await viewer(`${path}?token=${token}`), 403, 'forbidden', message);
    }
  });

  it('check a presented token before any StreamDO call, and a valid one costs media no call at all', async () => {
    const { id, rid } = await recordedStream();
    await storeMedia(id);
    const { token } = await mint(id);
    const calls = (['vodMaster', 'vodMedia', 'vodDownload', 'recording', 'masterPlaylist'] as const).map((m) => vi.spyOn(StreamDO.prototype, m));
    const expired = await handMade({ sub: id, exp: Math.floor(Date.now() / 1000) - 60 });
    for (const path of ['master.m3u8', '720p/index.m3u8', '720p/seg-1-e1.m4s', 'download.mp4', 'poster.jpg']) {
      expect((await viewer(`/vod/${id}/${rid}/${path}?token=${expired}`)).status).toBe(403);
    }
    const res = await viewer(`/vod/${id}/${rid}/720p/seg-1-e1.m4s?token=${token}`);
    expect(res.status).toBe(200);
    for (const spy of calls) expect(spy).not.toHaveBeenCalled();
  });

  it('carry the token into every variant URI of the VOD master, private to the viewer', async () => {
    const { id, rid } = await recordedStream();
    const { token } = await mint(id);
    const res = await viewer(`/vod/${id}/${rid}/master.m3u8?token=${token}`);
    expect(res.status).toBe(200);
    const [visibility, maxAge] = res.headers.get('cache-control')!.split(', ');
    expect(visibility).toBe('private');
    expect(maxAge).toMatch(SEVEN_DAYS);
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
${INF_720}
720p/index.m3u8?token=${token}
${INF_360}
360p/index.m3u8?token=${token}
`);
  });

  it('carry the token into EXT-X-MAP and every segment of a VOD media playlist, private to the viewer', async () => {
    const { id, rid } = await recordedStream();
    const { token } = await mint(id);
    const res = await viewer(`/vod/${id}/${rid}/720p/index.m3u8?token=${token}`);
    expect(res.status).toBe(200);
    const [visibility, maxAge] = res.headers.get('cache-control')!.split(', ');
    expect(visibility).toBe('private');
    expect(maxAge).toMatch(SEVEN_DAYS);
    const t = `token=${token}`;
    expect(await text(res)).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4?${t}"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z
#EXTINF:2.000,
seg-0-e1.m4s?${t}
#EXTINF:2.000,
seg-1-e1.m4s?${t}
#EXTINF:2.000,
seg-2-e1.m4s?${t}
#EXT-X-ENDLIST
`);
  });

  it('render a VOD playlist once for all viewers and give each only its own token', async () => {
    const { id, rid } = await recordedStream();
    const a = (await mint(id, { viewerId: 'a' })).token;
    const b = (await mint(id, { viewerId: 'b' })).token;
    const renders = vi.spyOn(StreamDO.prototype, 'vodMedia');
    const bodyA = await text(await viewer(`/vod/${id}/${rid}/360p/index.m3u8?token=${a}`));
    await settle();
    const bodyB = await text(await viewer(`/vod/${id}/${rid}/360p/index.m3u8?token=${b}`));
    expect(renders).toHaveBeenCalledTimes(1);
    expect(bodyA).toContain(`seg-2-e1.m4s?token=${a}\n`);
    expect(bodyA).not.toContain(b);
    expect(bodyB).not.toContain(a);
    expect(bodyB.replaceAll(b, a)).toBe(bodyA);
  });

  it('serve media to any valid token from one cached copy, still immutable and public', async () => {
    const { id, rid } = await recordedStream();
    await env.MEDIA.put(mediaObjectKey(id, '720p', 'seg-1-e1.m4s'), new Uint8Array([7, 8, 9]));
    const a = (await mint(id)).token;
    const b = (await mint(id)).token;
    const first = await viewer(`/vod/${id}/${rid}/720p/seg-1-e1.m4s?token=${a}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect([...new Uint8Array(await first.arrayBuffer())]).toEqual([7, 8, 9]);
    await settle();
    // Gone from the bucket (and no origin): only the cached copy can answer the second viewer.
    await env.MEDIA.delete(mediaObjectKey(id, '720p', 'seg-1-e1.m4s'));
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response('no origin here', { status: 404 }));
    const second = await viewer(`/vod/${id}/${rid}/720p/seg-1-e1.m4s?token=${b}`);
    expect(second.status).toBe(200);
    expect([...new Uint8Array(await second.arrayBuffer())]).toEqual([7, 8, 9]);
    // The cached copy does not open the file to a viewer without a token.
    await expectError(await viewer(`/vod/${id}/${rid}/720p/seg-1-e1.m4s`), 401, 'unauthorized', unauthorized(id));
  });

  it('serve the MP4 download and the poster with a token', async () => {
    const { id, rid } = await recordedStream();
    await storeMedia(id);
    const { token } = await mint(id);
    const download = await viewer(`/vod/${id}/${rid}/download.mp4?token=${token}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('cache-control')).toBe('private, max-age=3600');
    expect(download.headers.get('x-edgelive-epochs')).toBe('1/1');
    const body = new Uint8Array(await download.arrayBuffer());
    expect(body.subarray(0, tinyInit().length)).toEqual(tinyInit());
    const poster = await viewer(`/vod/${id}/${rid}/poster.jpg?token=${token}`);
    expect(poster.status).toBe(200);
    expect([...new Uint8Array(await poster.arrayBuffer())]).toEqual([0xff, 0xd8, 0xff]);
  });

  it('stay playable with a token after the stream stopped serving its live playlists (410)', async () => {
    const { id, rid } = await recordedStream();
    const { token } = await mint(id);
    await runInDurableObject(env.STREAM_DO.get(env.STREAM_DO.idFromName(id)), (_o: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET ended_at = 1');
    });
    expect((await viewer(`/live/${id}/720p/index.m3u8?token=${token}`)).status).toBe(410);
    await expectError(await viewer(`/vod/${id}/${rid}/master.m3u8`), 401, 'unauthorized', unauthorized(id));
    expect((await viewer(`/vod/${id}/${rid}/master.m3u8?token=${token}`)).status).toBe(200);
  });

  it('are listed in the playback-tokens answer with URLs carrying the token; the recordings API says their policy', async () => {
    const { id, rid } = await recordedStream();
    const { token, recordings } = await mint(id);
    const base = `${BASE}/vod/${id}/${rid}`;
    expect(recordings).toEqual([
      { id: rid, status: 'ready', thumbnailUrl: `${base}/poster.jpg?token=${token}`, playback: { hls: `${base}/master.m3u8?token=${token}`, mp4: `${base}/download.mp4?token=${token}` } },
    ]);
    const answer = await okData(adminApi().GET('/v1/streams/{id}/recordings/{rid}', { params: { path: { id, rid } } }));
    expect(answer).toMatchObject({ playbackPolicy: 'signed', thumbnailUrl: `${base}/poster.jpg`, playback: { hls: `${base}/master.m3u8`, mp4: `${base}/download.mp4` } });
    // A deleted recording is no longer offered.
    expect((await adminApi().DELETE('/v1/streams/{id}/recordings/{rid}', { params: { path: { id, rid } } })).response.status).toBe(202);
    expect((await mint(id)).recordings).toEqual([]);
  });
});

describe("a public stream's recordings", () => {
  it('need no token and keep shared caching; turned signed by PATCH, they refuse viewers without one at once', async () => {
    const { id, rid } = await recordedStream('public');
    const before = await viewer(`/vod/${id}/${rid}/master.m3u8`);
    expect(before.status).toBe(200);
    expect(before.headers.get('cache-control')).toMatch(/^public, max-age=60479\d$/);
    expect(await text(before)).not.toContain('token=');
    await expectError(await viewer(`/vod/${id}/${rid}/master.m3u8?token=garbage`), 403, 'forbidden', 'playback token is not a well-formed token');
    expect((await okData(adminApi().GET('/v1/streams/{id}/recordings/{rid}', { params: { path: { id, rid } } }))).playbackPolicy).toBe('public');
    await settle();
    // The playlist stays cached (a year at most), but the policy is read from the serving verdict, which the PATCH drops.
    await okData(adminApi().PATCH('/v1/streams/{id}', { params: { path: { id } }, body: { playbackPolicy: 'signed' } }));
    await expectError(await viewer(`/vod/${id}/${rid}/master.m3u8`), 401, 'unauthorized', unauthorized(id));
    const { token } = await mint(id);
    const after = await viewer(`/vod/${id}/${rid}/master.m3u8?token=${token}`);
    expect(after.status).toBe(200);
    expect(await text(after)).toContain(`720p/index.m3u8?token=${token}\n`);
  });
});
