import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { INTERNAL_API, mediaObjectKey } from '../../../shared/src/internal-api.ts';
import { admin, createStream, json, publish, rendition, segments, signed, viewer } from '../test-support/edge-client.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { AV_TRACKS, decodeTimes, tinyFragment, tinyInit, type TinyTrack } from '../test-support/tiny-fmp4.ts';

function stub(id: string) {
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(id));
}

/** Announces msns `from`..`to` of `name` in `epoch`, 64 a call. */
async function announceRange(id: string, epoch: number, name: string, from: number, to: number, bytes = 1000): Promise<void> {
  for (let start = from; start <= to; start += 64) {
    const msns = Array.from({ length: Math.min(64, to - start + 1) }, (_, i) => start + i);
    const res = await signed(INTERNAL_API.segments(id), segments(epoch, name, msns, bytes));
    if (res.status !== 200) throw new Error(`announce failed: ${res.status} ${await res.text()}`);
  }
}

/** Stores `bytes` under each key in the R2 binding, as the origin's upload would. */
async function putObjects(keys: string[]): Promise<void> {
  for (const key of keys) await env.MEDIA.put(key, new TextEncoder().encode(`<${key}>`));
}

async function listed(prefix: string): Promise<string[]> {
  return (await env.MEDIA.list({ prefix })).objects.map((o) => o.key).sort();
}

/** Makes every queued purge due now (instead of waiting MEDIA_PURGE_DELAY_SECONDS) and runs the alarm. */
async function purgeNow(id: string): Promise<void> {
  await runInDurableObject(stub(id), (_o: StreamDO, state) => {
    state.storage.sql.exec('UPDATE media_purge SET due_at = 0');
  });
  expect(await runDurableObjectAlarm(stub(id))).toBe(true);
}

/**
 * Stores the recorded stream's 720p media as tiny fMP4: init-1 and init-2 (epoch 2's tracks:
 * `secondTracks`), 2 s segments whose decode times start at 0 in each epoch, as a new encoder's do.
 */
async function putRecordedMedia(id: string, secondTracks: TinyTrack[]): Promise<Uint8Array[]> {
  await env.MEDIA.put(mediaObjectKey(id, '720p', 'init-1.mp4'), tinyInit());
  await env.MEDIA.put(mediaObjectKey(id, '720p', 'init-2.mp4'), tinyInit(secondTracks));
  const fragments: Uint8Array[] = [];
  for (let msn = 0; msn < 30; msn++) {
    const k = msn < 20 ? msn : msn - 20;
    const fragment = tinyFragment(msn, [
      { trackId: 1, baseDecodeTime: k * 180_000, durations: [180_000] },
      { trackId: 2, baseDecodeTime: k * 96_000, durations: [96_000] },
    ]);
    fragments.push(fragment);
    await env.MEDIA.put(mediaObjectKey(id, '720p', `seg-${msn}-e${msn < 20 ? 1 : 2}.m4s`), fragment);
  }
  return fragments;
}

async function eventTypes(id: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return (await json<{ events: { type: string; data: Record<string, unknown> }[] }>(await admin('GET', `/v1/streams/${id}/events?limit=1000`))).events;
}

describe('DVR window', () => {
  it('is off by default, 7200 s with dvr: true, and at most 4 h', async () => {
    expect((await json(await admin('POST', '/v1/streams', {}))).dvrWindowSeconds).toBe(0);
    expect((await json(await admin('POST', '/v1/streams', { dvr: true }))).dvrWindowSeconds).toBe(7200);
    expect((await json(await admin('POST', '/v1/streams', { dvr: true, dvrWindowSeconds: 600 }))).dvrWindowSeconds).toBe(600);
    const res = await admin('POST', '/v1/streams', { dvrWindowSeconds: 14_401 });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'bad_request', message: 'dvrWindowSeconds: Too big: expected number to be <=14400' } });
  });

  it('lists up to the window of media, slides beyond it, and answers _HLS_skip=YES with EXT-X-SKIP', async () => {
    const { id, streamKey } = await createStream({ dvrWindowSeconds: 60, lowLatency: false });
    const { epoch } = await json<{ epoch: number }>(await publish(streamKey));
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await announceRange(id, epoch, '720p', 0, 99);
    const full = await (await viewer(`/live/${id}/720p/index.m3u8`)).text();
    const listedSegments = full.split('\n').filter((l) => l.startsWith('seg-'));
    // 60 s of 2 s segments: the newest 30, msn 70..99.
    expect(listedSegments).toEqual(Array.from({ length: 30 }, (_, i) => `seg-${70 + i}-e1.m4s`));
    expect(full.split('\n').slice(0, 7)).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12.0',
      '#EXT-X-MEDIA-SEQUENCE:70',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="init-1.mp4"',
    ]);
    // The rows kept are bounded by the window (30 + 2), not by the 100 announced.
    const view = await json<{ storage: { segmentRows: number } }>(await admin('GET', `/v1/streams/${id}`));
    expect(view.storage.segmentRows).toBe(32);

    const delta = await (await viewer(`/live/${id}/720p/index.m3u8?_HLS_skip=YES`)).text();
    // Segments starting more than 12 s before the end are skipped: 24 of 30; the last 6 are listed.
    expect(delta).toBe(`#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=12.0
#EXT-X-MEDIA-SEQUENCE:70
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SKIP:SKIPPED-SEGMENTS=24
#EXT-X-MAP:URI="init-1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:03:08.000Z
#EXTINF:2.000,
seg-94-e1.m4s
#EXTINF:2.000,
seg-95-e1.m4s
#EXTINF:2.000,
seg-96-e1.m4s
#EXTINF:2.000,
seg-97-e1.m4s
#EXTINF:2.000,
seg-98-e1.m4s
#EXTINF:2.000,
seg-99-e1.m4s
`);
  });

  it('without DVR (and without LL-HLS) keeps the 8-segment playlist and advertises no delta updates', async () => {
    const { id, streamKey } = await createStream({ lowLatency: false });
    const { epoch } = await json<{ epoch: number }>(await publish(streamKey));
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await announceRange(id, epoch, '720p', 0, 19);
    const text = await (await viewer(`/live/${id}/720p/index.m3u8?_HLS_skip=YES`)).text();
    expect(text).not.toContain('EXT-X-SERVER-CONTROL');
    expect(text).not.toContain('EXT-X-SKIP');
    expect(text.split('\n').filter((l) => l.startsWith('seg-'))).toHaveLength(8);
  });
});

describe('retention of segments outside the window', () => {
  it('deletes objects that slid out of an unrecorded stream from storage, counts bytes, logs the purge', async () => {
    const { id, streamKey } = await createStream({});
    const { epoch } = await json<{ epoch: number }>(await publish(streamKey));
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    const keys = Array.from({ length: 30 }, (_, msn) => mediaObjectKey(id, '720p', `seg-${msn}-e1.m4s`));
    await putObjects(keys);
    await announceRange(id, epoch, '720p', 0, 29, 1000);
    let view = await json<{ storage: { bytes: number; purgedObjects: number } }>(await admin('GET', `/v1/streams/${id}`));
    expect(view.storage).toMatchObject({ bytes: 30_000, purgedObjects: 0 });
    // Nothing is deleted before its delay: a player that loaded an older playlist may still fetch it.
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await listed(`live/${id}/720p/seg-`)).toHaveLength(30);
    await purgeNow(id);
    // 10 rows kept (8 + 2): msn 20..29 stay, 0..19 are gone from storage.
    expect(await listed(`live/${id}/720p/seg-`)).toEqual(keys.slice(20).sort());
    view = await json(await admin('GET', `/v1/streams/${id}`));
    expect(view.storage).toMatchObject({ bytes: 10_000, purgedObjects: 20 });
    expect((await eventTypes(id)).filter((e) => e.type === 'media_purged').map((e) => e.data)).toEqual([{ objects: 20, bytes: 20_000 }]);
    const queued = await runInDurableObject(stub(id), (_o: StreamDO, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM media_purge').one().n);
    expect(queued).toBe(0);
  });
});

describe('retention of an ended stream', () => {
  it('deletes the final window once the ended stream is no longer served (410)', async () => {
    const { id, streamKey } = await createStream({ reconnectWindowSeconds: 0 });
    const { epoch } = await json<{ epoch: number }>(await publish(streamKey));
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    const keys = [mediaObjectKey(id, '720p', 'init-1.mp4'), ...Array.from({ length: 12 }, (_, msn) => mediaObjectKey(id, '720p', `seg-${msn}-e1.m4s`))];
    await putObjects([...keys, `live/${id}/_thumbs/latest.jpg`, `live/${id}/_thumbs/poster-e1.jpg`]);
    await announceRange(id, epoch, '720p', 0, 11, 1000);
    expect((await admin('POST', `/v1/streams/${id}/end`)).status).toBe(200);
    await purgeNow(id);
    // Ended within ENDED_RETENTION_SECONDS: the final playlist (and the 10 rows behind it) stay.
    expect(await listed(`live/${id}/`)).toEqual([keys[0]!, ...keys.slice(3), `live/${id}/_thumbs/latest.jpg`, `live/${id}/_thumbs/poster-e1.jpg`].sort());
    await runInDurableObject(stub(id), (_o: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET ended_at = 1');
    });
    expect((await viewer(`/live/${id}/720p/index.m3u8`)).status).toBe(410);
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await listed(`live/${id}/`)).toEqual([]);
    const settings = await runInDurableObject(stub(id), (_o: StreamDO, state) =>
      state.storage.sql.exec<{ stored_bytes: number; purged_objects: number }>('SELECT stored_bytes, purged_objects FROM media_settings').one(),
    );
    expect(settings).toEqual({ stored_bytes: 0, purged_objects: 15 });
  });

  it('expires an ended stream nothing keeps any more: an expired event, then its objects and the StreamDO storage go', async () => {
    const { id, streamKey } = await createStream({ reconnectWindowSeconds: 0 });
    const { epoch } = await json<{ epoch: number }>(await publish(streamKey));
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await announceRange(id, epoch, '720p', 0, 3, 1000);
    // An object the index never listed (an upload whose announce was lost) goes with the stream's prefix.
    await putObjects([mediaObjectKey(id, '720p', 'init-1.mp4'), ...Array.from({ length: 5 }, (_, msn) => mediaObjectKey(id, '720p', `seg-${msn}-e1.m4s`))]);
    expect((await admin('POST', `/v1/streams/${id}/end`)).status).toBe(200);
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    // Still served: ended within ENDED_RETENTION_SECONDS.
    expect((await admin('GET', `/v1/streams/${id}`)).status).toBe(200);
    await runInDurableObject(stub(id), (_o: StreamDO, state) => {
      state.storage.sql.exec('UPDATE stream SET ended_at = 1');
    });
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    const tombstone = await runInDurableObject(stub(id), (_o: StreamDO, state) => ({
      row: state.storage.sql.exec<{ deleted_at: number | null; purge_pending: number }>('SELECT deleted_at, purge_pending FROM stream').one(),
      events: state.storage.sql.exec<{ type: string }>('SELECT type FROM events ORDER BY seq').toArray().map((e) => e.type),
    }));
    expect(tombstone.row.deleted_at).not.toBeNull();
    expect(tombstone.row.purge_pending).toBe(1);
    expect(tombstone.events.slice(-2)).toEqual(['media_purged', 'expired']);
    expect((await admin('GET', `/v1/streams/${id}`)).status).toBe(404);
    // The purge: the whole prefix, then the StreamDO's own storage.
    expect(await runDurableObjectAlarm(stub(id))).toBe(true);
    expect(await listed(`live/${id}/`)).toEqual([]);
    const tables = await runInDurableObject(stub(id), (_o: StreamDO, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").toArray(),
    );
    expect(tables).toEqual([]);
    expect((await admin('GET', `/v1/streams/${id}`)).status).toBe(404);
    expect((await viewer(`/live/${id}/720p/seg-4-e1.m4s`)).status).toBe(404);
  });
});

/** A recorded stream: 720p + 360p, msn 0..19 in epoch 1, a reconnect, msn 20..29 in epoch 2, then ended. */
async function recordedStream(body: Record<string, unknown> = {}): Promise<{ id: string; rid: string }> {
  const { id, streamKey } = await createStream({ record: true, reconnectWindowSeconds: 60, ...body });
  const first = await json<{ epoch: number }>(await publish(streamKey));
  for (const [name, height] of [['720p', 720], ['360p', 360]] as const) {
    await signed(INTERNAL_API.renditions(id), rendition(first.epoch, name, { height, width: (height * 16) / 9, declaredBandwidth: height * 4000 }));
    await announceRange(id, first.epoch, name, 0, 19);
  }
  expect((await signed(INTERNAL_API.end(id), { epoch: first.epoch, reason: 'publisher_stopped', nextMsn: 20 })).status).toBe(200);
  const second = await json<{ epoch: number; firstMsn: number }>(await publish(streamKey));
  expect(second).toMatchObject({ epoch: 2, firstMsn: 20 });
  for (const [name, height] of [['720p', 720], ['360p', 360]] as const) {
    await signed(INTERNAL_API.renditions(id), rendition(second.epoch, name, { height, width: (height * 16) / 9, declaredBandwidth: height * 4000 }));
    await announceRange(id, second.epoch, name, 20, 29);
  }
  const recordings = await json<{ recordings: { id: string; status: string }[] }>(await admin('GET', `/v1/streams/${id}/recordings`));
  expect(recordings.recordings.map((r) => r.status)).toEqual(['recording']);
  expect((await admin('POST', `/v1/streams/${id}/end`)).status).toBe(200);
  return { id, rid: recordings.recordings[0]!.id };
}

describe('recordings', () => {
  it('records one live session across a reconnect and lists it ready once the stream ends', async () => {
    const { id, rid } = await recordedStream();
    const list = await json<{ recordings: Record<string, unknown>[] }>(await admin('GET', `/v1/streams/${id}/recordings`));
    const base = `https://edge.test/vod/${id}/${rid}`;
    const expected = {
      id: rid,
      status: 'ready',
      startedAt: Date.UTC(2025, 0, 1),
      endedAt: expect.any(Number),
      expiresAt: expect.any(Number),
      durationSeconds: 60,
      bytes: 60 * 1000,
      segments: 60,
      renditions: ['360p', '720p'],
      firstEpoch: 1,
      playbackPolicy: 'public',
      thumbnailUrl: `${base}/poster.jpg`,
      playback: { hls: `${base}/master.m3u8`, mp4: `${base}/download.mp4` },
    };
    expect(list).toEqual({ recordings: [expected] });
    const one = await json<{ endedAt: number; expiresAt: number }>(await admin('GET', `/v1/streams/${id}/recordings/${rid}`));
    expect(one).toEqual(expected);
    // Kept 7 days by default.
    expect(one.expiresAt - one.endedAt).toBe(604_800_000);
    expect((await admin('GET', `/v1/streams/${id}/recordings/rzzzzzzzzzzzzzzz`)).status).toBe(404);
    // Recorded segments are not purged when they slide out of the live index.
    const view = await json<{ storage: { bytes: number } }>(await admin('GET', `/v1/streams/${id}`));
    expect(view.storage.bytes).toBe(60_000);
    expect((await eventTypes(id)).filter((e) => e.type === 'recording_ready').map((e) => e.data)).toEqual([
      { recordingId: rid, durationSeconds: 60, bytes: 60_000, expiresAt: one.expiresAt },
    ]);
  });

  it('serves immutable VOD playlists of the whole recording', async () => {
    const { id, rid } = await recordedStream();
    const master = await viewer(`/vod/${id}/${rid}/master.m3u8`);
    expect(master.status).toBe(200);
    // Cacheable until the recording expires (7 days), never longer.
    expect(master.headers.get('cache-control')).toMatch(/^public, max-age=60479\d$/);
    const masterText = await master.text();
    expect(masterText).toContain('720p/index.m3u8');
    expect(masterText).toContain('360p/index.m3u8');
    const media = await viewer(`/vod/${id}/${rid}/720p/index.m3u8`);
    expect(media.headers.get('cache-control')).toMatch(/^public, max-age=60479\d$/);
    const lines = (await media.text()).split('\n');
    expect(lines.slice(0, 9)).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="init-1.mp4"',
      '#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z',
      '#EXTINF:2.000,',
    ]);
    expect(lines.filter((l) => l.startsWith('seg-'))).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `seg-${i}-e1.m4s`),
      ...Array.from({ length: 10 }, (_, i) => `seg-${20 + i}-e2.m4s`),
    ]);
    const atReconnect = lines.indexOf('seg-19-e1.m4s');
    expect(lines.slice(atReconnect + 1, atReconnect + 5)).toEqual(['#EXT-X-DISCONTINUITY', '#EXT-X-MAP:URI="init-2.mp4"', '#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:40.000Z', '#EXTINF:2.000,']);
    expect(lines.slice(-3)).toEqual(['seg-29-e2.m4s', '#EXT-X-ENDLIST', '']);
  });

  it('is not playable while recording', async () => {
    const { id, streamKey } = await createStream({ record: true });
    const { epoch } = await json<{ epoch: number }>(await publish(streamKey));
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await announceRange(id, epoch, '720p', 0, 3);
    const [rec] = (await json<{ recordings: { id: string; playback: unknown }[] }>(await admin('GET', `/v1/streams/${id}/recordings`))).recordings;
    expect(rec!.playback).toEqual({ hls: null, mp4: null });
    const res = await viewer(`/vod/${id}/${rec!.id}/master.m3u8`);
    expect(res.status).toBe(409);
  });

  it('streams the top rendition as one MP4 across the reconnect: the first init, then every segment, the second epoch continuing the timeline', async () => {
    const { id, rid } = await recordedStream();
    const fragments = await putRecordedMedia(id, AV_TRACKS);
    const res = await viewer(`/vod/${id}/${rid}/download.mp4`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('x-edgelive-epochs')).toBe('2/2');
    const body = new Uint8Array(await res.arrayBuffer());
    const init = tinyInit();
    expect(body.subarray(0, init.length)).toEqual(init);
    const size = fragments[0]!.length;
    expect(body.length).toBe(init.length + 30 * size);
    const times = Array.from({ length: 30 }, (_, i) => decodeTimes(body.subarray(init.length + i * size, init.length + (i + 1) * size)));
    // Epoch 1 as stored (2 s a segment); epoch 2's encoder started again at 0 and now follows at 40 s.
    expect(times.map((t) => t.get(1))).toEqual(Array.from({ length: 30 }, (_, i) => i * 180_000));
    expect(times.map((t) => t.get(2))).toEqual(Array.from({ length: 30 }, (_, i) => i * 96_000));
  });

  it('ends the MP4 at the first epoch whose codec configuration differs from the first', async () => {
    const { id, rid } = await recordedStream();
    await putRecordedMedia(id, [{ ...AV_TRACKS[0]!, config: 2 }, AV_TRACKS[1]!]);
    const res = await viewer(`/vod/${id}/${rid}/download.mp4`);
    expect(res.headers.get('x-edgelive-epochs')).toBe('1/2');
    expect((await res.arrayBuffer()).byteLength).toBe(tinyInit().length + 20 * tinyFragment(0, [{ trackId: 1, baseDecodeTime: 0, durations: [1] }, { trackId: 2, baseDecodeTime: 0, durations: [1] }]).length);
  });

  it('expires after its retention: objects deleted from storage, rows from the StreamDO, each purge an event', async () => {
    const { id, rid } = await recordedStream({ recordingRetentionSeconds: 3600 });
    const recorded = ['720p', '360p'].flatMap((r) => [
      mediaObjectKey(id, r, 'init-1.mp4'),
      mediaObjectKey(id, r, 'init-2.mp4'),
      ...Array.from({ length: 30 }, (_, i) => mediaObjectKey(id, r, `seg-${i}-e${i < 20 ? 1 : 2}.m4s`)),
    ]);
    await putObjects([...recorded, `live/${id}/_thumbs/poster-e1.jpg`]);
    // Retention runs out (as if an hour passed).
    await runInDurableObject(stub(id), (_o: StreamDO, state) => {
      state.storage.sql.exec('UPDATE recordings SET expires_at = 1');
    });
    await purgeNow(id);
    // The live index still lists msn 20..29 (the final playlist): those objects and their init stay.
    const kept = ['360p', '720p'].flatMap((r) => [mediaObjectKey(id, r, 'init-2.mp4'), ...Array.from({ length: 10 }, (_, i) => mediaObjectKey(id, r, `seg-${20 + i}-e2.m4s`))]);
    expect(await listed(`live/${id}/`)).toEqual(kept.sort());
    expect((await admin('GET', `/v1/streams/${id}/recordings/${rid}`)).status).toBe(404);
    expect(await json(await admin('GET', `/v1/streams/${id}/recordings`))).toEqual({ recordings: [] });
    const rows = await runInDurableObject(stub(id), (_o: StreamDO, state) =>
      state.storage.sql.exec<{ n: number }>('SELECT (SELECT COUNT(*) FROM recording_segments) + (SELECT COUNT(*) FROM recordings) + (SELECT COUNT(*) FROM media_purge) AS n').one().n,
    );
    expect(rows).toBe(0);
    const events = (await eventTypes(id)).filter((e) => e.type.startsWith('recording_') || e.type === 'media_purged');
    expect(events.map((e) => e.type)).toEqual(['recording_ready', 'recording_expired', 'recording_purged', 'media_purged']);
    expect(events[2]!.data).toEqual({ recordingId: rid, reason: 'expired', segments: 60, bytes: 60_000 });
    expect(events[3]!.data).toEqual({ objects: 43, bytes: 40_000 });
    expect((await viewer(`/vod/${id}/${rid}/master.m3u8`)).status).toBe(404);
  });

  it('DELETE marks it deleted at once and the alarm purges it', async () => {
    const { id, rid } = await recordedStream();
    expect((await viewer(`/vod/${id}/${rid}/720p/index.m3u8`)).status).toBe(200); // now in the edge's cache
    const res = await admin('DELETE', `/v1/streams/${id}/recordings/${rid}`);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ id: rid, status: 'deleted', playback: { hls: null, mp4: null }, thumbnailUrl: null });
    expect((await viewer(`/vod/${id}/${rid}/720p/index.m3u8`)).status).toBe(404);
    await purgeNow(id);
    expect((await admin('GET', `/v1/streams/${id}/recordings/${rid}`)).status).toBe(404);
    expect((await eventTypes(id)).filter((e) => e.type === 'recording_purged').map((e) => e.data)).toEqual([{ recordingId: rid, reason: 'deleted', segments: 60, bytes: 60_000 }]);
  });
});
