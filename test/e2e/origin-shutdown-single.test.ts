import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { publishTestPattern, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { createStream, fileStatuses, listedFiles, listedMsns, streamView, waitFor } from '../support/e2e-helpers.ts';

/**
 * SIGTERM of the only origin node (its own process, no Redis): no node can take its stream, so it
 * ends it as `node_shutdown` (error, resumable) and exits 0. The edge reads media straight from the
 * bucket here, as production's R2 binding does, so the node's exit cannot hide listed segments.
 */

let stack: LocalStack;
let publisher: FfmpegProcess | undefined;

const msns = listedMsns;

beforeAll(async () => {
  const s3 = await freePort();
  stack = await startLocalStack({
    originProcesses: true,
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3, inspector: 0 },
    edgeVars: { ORIGIN_PULL_URL: `http://127.0.0.1:${s3}/edgelive-media` },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
    originEnv: { X264_PRESET: 'ultrafast', SHUTDOWN_GRACE_MS: '6000' },
  });
});

afterAll(async () => {
  publisher?.child.kill('SIGKILL');
  await stack?.close();
});

describe('SIGTERM of the only origin node', () => {
  it('ends the stream as node_shutdown, exits 0, and every listed segment stays served', async () => {
    const node = stack.origins[0]!;
    const stream = await createStream(stack, { name: 'single', ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 500 }], audioKbps: 64 } });
    publisher = publishTestPattern(`${node.rtmpUrl}/${stream.streamKey}`, { width: 320, height: 240, fps: 15, seconds: 120, videoKbps: 300 });
    await waitFor('three segments', 30_000, async () => (msns(await (await fetch(`${stack.edgeUrl}/live/${stream.id}/240p/index.m3u8`)).text()).length >= 3 ? true : undefined));

    const termAt = Date.now();
    node.signal('SIGTERM');
    await Promise.race([node.exited(), new Promise((r) => setTimeout(r, 20_000))]);
    expect(node.exit).toMatchObject({ code: 0, signal: null });
    console.log(`the only node exited ${node.exit!.at - termAt} ms after SIGTERM`);

    const view = await streamView(stack, stream.id);
    expect(view.status).toBe('error');
    expect(view.lastError).toMatchObject({ reason: 'node_shutdown', message: 'the origin node shut down' });
    const media = await (await fetch(`${stack.edgeUrl}/live/${stream.id}/240p/index.m3u8`)).text();
    const listed = msns(media);
    expect(listed.length).toBeGreaterThanOrEqual(3);
    const files = listedFiles(media);
    expect(await fileStatuses(`${stack.edgeUrl}/live/${stream.id}/240p`, files)).toEqual(files.map((f) => [f, 200]));
    expect((await fetch(`${stack.edgeUrl}/live/${stream.id}/240p/init-1.mp4`)).status).toBe(200);
    expect((await publisher.exited).code).not.toBe(0); // the broadcaster was disconnected
  });
});
