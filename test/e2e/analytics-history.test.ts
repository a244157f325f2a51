import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { okData } from '../../shared/src/api/management-client.ts';
import { publishTestPattern, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { adminApi, createStream, waitFor } from '../support/e2e-helpers.ts';

/**
 * Analytics history on the real chain: ffmpeg publishes over RTMP → origin (heartbeats with its
 * measured bitrate) → edge Worker in workerd, two viewers poll with their own sessions and one
 * sends a QoE beacon; once a minute has closed, the stream's history and the fleet totals show it.
 * Values from the real encoder are bounded, not exact; the exact arithmetic is in the workerd tests.
 */

let stack: LocalStack;
let publisher: FfmpegProcess | undefined;
const viewerTimers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
  });
});

afterAll(async () => {
  for (const t of viewerTimers) clearInterval(t);
  publisher?.child.kill('SIGKILL');
  await stack?.close();
});

describe('analytics history during a live publish', () => {
  it('rolls up a closed minute of a live, watched stream, per stream and for the fleet', async () => {
    const { id, streamKey } = await createStream(stack, { name: 'history-e2e', reconnectWindowSeconds: 0, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 400 }], audioKbps: 64 } });
    const startedAt = Date.now();
    publisher = publishTestPattern(`${stack.rtmpUrl}/${streamKey}`, { width: 426, height: 240, fps: 25, seconds: 170, videoKbps: 300 });
    const master = await waitFor('the master playlist', 60_000, async () => {
      const res = await fetch(`${stack.edgeUrl}/live/${id}/master.m3u8`);
      return res.status === 200 ? res.text() : undefined;
    });
    for (let i = 0; i < 2; i++) {
      const m = i === 0 ? master : await (await fetch(`${stack.edgeUrl}/live/${id}/master.m3u8`)).text();
      const variant = m.split('\n').find((l) => l.startsWith('240p/'))!;
      const poll = () => void fetch(`${stack.edgeUrl}/live/${id}/${variant}`).then((r) => r.arrayBuffer()).catch(() => undefined);
      poll();
      viewerTimers.push(setInterval(poll, 2000));
    }
    const sid = /sid=([A-Za-z0-9_-]+)/.exec(master)![1]!;
    // Not in a minute's last seconds: the beacon and both viewers' polls (every 2 s, flushed within a
    // second) must land in the same minute (seen: a beacon 59.9 s into its minute counted in the next).
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 10_000) await new Promise((r) => setTimeout(r, left + 3000));
    expect((await fetch(`${stack.edgeUrl}/live/${id}/beacon`, { method: 'POST', body: JSON.stringify({ sid, startupMs: 1200, playedMs: 9000, rebufferMs: 1000, errors: 1 }) })).status).toBe(204);
    const beaconAt = Date.now();

    // The minute of the beacon: live and watched from some point in it to its end.
    const from = Math.floor(beaconAt / 60_000) * 60_000;
    const history = await waitFor('a closed minute with viewers and ingest', 150_000, async () => {
      const body = await okData(adminApi(stack).GET('/v1/streams/{id}/analytics', { params: { path: { id }, query: { from: String(from - 60_000) } } }));
      return body.points.some((p) => p.t === from) ? body : undefined;
    });
    const minute = history.points.find((p) => p.t === from)!;
    console.log(`analytics history: minute ${new Date(from).toISOString()} readable ${Date.now() - from - 60_000} ms after its end (publish began ${startedAt - from} ms into it):`, JSON.stringify(minute));
    expect(minute).toMatchObject({ uniqueViewers: 2, peakViewers: 2, currentViewers: 2, errors: 1, rebufferRatio: 0.1 });
    // The startup of 1200 ms reads back from its histogram bucket (±4.4%).
    expect(Math.abs(minute.startupP50Ms! - 1200)).toBeLessThanOrEqual(1200 * 0.045);
    expect(minute.ingestKbps).toBeGreaterThan(100);
    expect(minute.ingestKbps).toBeLessThan(2000);

    const fleet = await waitFor('the fleet minute', 60_000, async () => {
      const body = await okData(adminApi(stack).GET('/v1/analytics', { params: { query: { from: String(from), to: String(from + 60_000) } } }));
      return body.points[0]?.activeStreams ? body.points[0] : undefined;
    });
    expect(fleet).toMatchObject({ t: from, currentViewers: 2, uniqueViewers: 2, errors: 1, liveStreams: 1, activeStreams: 1, ingestKbps: minute.ingestKbps });
  });
});
