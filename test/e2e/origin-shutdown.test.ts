import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import type { OriginProcess } from '../../infra/local/origin-process.ts';
import { rendezvousRank } from '../../origin/src/cluster/rendezvous.ts';
import { publishTestPattern, type FfmpegProcess } from '../support/ffmpeg-cli.ts';
import { createStream, fileStatuses, listedFiles, listedMsns, streamView, waitFor, type CreatedStream } from '../support/e2e-helpers.ts';

/**
 * Graceful shutdown (SIGTERM) in a cluster: three origin processes, a real redis-server, the real
 * edge. Node 0 is never stopped (the local edge pulls media through it). A node that transcodes a
 * relayed stream hands it over and exits; a node a broadcaster is connected to refuses new
 * publishes while it drains, keeps the stream going elsewhere for SHUTDOWN_GRACE_MS, then exits
 * leaving the stream resumable. Nothing listed before the SIGTERM stops being served.
 */

const GRACE_MS = 6_000;
const NODES = ['origin-0', 'origin-1', 'origin-2'];

let stack: LocalStack;
const processes: FfmpegProcess[] = [];



async function streamsOn(o: OriginProcess): Promise<string[]> {
  return ((await (await fetch(`${o.httpUrl}/healthz`)).json()) as { streams: string[] }).streams;
}

function createTestStream(name: string): Promise<CreatedStream> {
  return createStream(stack, { name, ladder: { rungs: [{ name: '240p', height: 240, videoKbps: 500 }], audioKbps: 64 } });
}

async function playlist(id: string): Promise<string> {
  return (await fetch(`${stack.edgeUrl}/live/${id}/240p/index.m3u8`)).text();
}

const msns = listedMsns;

function publish(o: OriginProcess, streamKey: string, seconds = 120): FfmpegProcess {
  const p = publishTestPattern(`${o.rtmpUrl}/${streamKey}`, { width: 320, height: 240, fps: 15, seconds, videoKbps: 300 });
  processes.push(p);
  return p;
}

/** Every listed segment answers 200 at the edge. */
async function expectServed(id: string, files: string[]): Promise<void> {
  expect(files.length).toBeGreaterThan(0);
  expect(await fileStatuses(`${stack.edgeUrl}/live/${id}/240p`, files)).toEqual(files.map((f) => [f, 200]));
}

/** Waits until the playlist shows at least `count` segments after MSN `after`, and returns it. */
async function segmentsAfter(id: string, after: number, count: number, timeoutMs: number): Promise<string> {
  return waitFor(`${count} segments after MSN ${after}`, timeoutMs, async () => {
    const m = await playlist(id);
    return msns(m).filter((n) => n > after).length >= count ? m : undefined;
  });
}

beforeAll(async () => {
  stack = await startLocalStack({
    origins: 3,
    ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
    logger: pino({ level: process.env.E2E_LOG_LEVEL ?? 'warn' }),
    originEnv: { NODE_CAPACITY: '2', X264_PRESET: 'ultrafast', LEASE_TTL_MS: '3000', NODE_TTL_MS: '3000', SHUTDOWN_GRACE_MS: String(GRACE_MS) },
  });
});

afterAll(async () => {
  for (const p of processes) p.child.kill('SIGKILL');
  await stack?.close();
});

describe('origin graceful shutdown (SIGTERM)', () => {
  it('a transcoding node hands its relayed stream over and exits 0; MSNs go on and listed segments stay served', async () => {
    let stream: { id: string; streamKey: string };
    let owner: string;
    for (;;) {
      stream = await createTestStream('handover');
      owner = rendezvousRank(stream.id, NODES)[0]!;
      if (owner !== 'origin-0') break;
    }
    const victim = stack.origins[NODES.indexOf(owner)]!;
    publish(stack.origins[0]!, stream.streamKey);
    await waitFor('the owner to transcode the stream', 30_000, async () => ((await streamsOn(victim)).includes(stream.id) ? true : undefined));
    await waitFor('three segments', 30_000, async () => (msns(await playlist(stream.id)).length >= 3 ? true : undefined));
    const beforePlaylist = await playlist(stream.id);
    const before = msns(beforePlaylist);

    const termAt = Date.now();
    victim.signal('SIGTERM');
    await Promise.race([victim.exited(), new Promise((r) => setTimeout(r, 20_000))]);
    expect(victim.exit).toMatchObject({ code: 0, signal: null });
    console.log(`${owner} exited ${victim.exit!.at - termAt} ms after SIGTERM (relayed stream handed over)`);

    const survivors = stack.origins.filter((o) => o !== victim);
    const next = await waitFor('a surviving node to transcode the stream', 20_000, async () => {
      for (const o of survivors) if ((await streamsOn(o)).includes(stream.id)) return o;
      return undefined;
    });
    const m = await segmentsAfter(stream.id, before.at(-1)!, 2, 30_000);
    console.log(`${next.nodeId} transcodes it; two new segments ${Date.now() - termAt} ms after SIGTERM`);
    const all = msns(m);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(all.filter((n) => n > before.at(-1)!)[0]).toBe(before.at(-1)! + 1);
    expect(m).toContain('#EXT-X-DISCONTINUITY');
    expect((await streamView(stack, stream.id)).status).toBe('live');
    await expectServed(stream.id, listedFiles(beforePlaylist));
  });

  it('a node with a broadcaster: readyz 503 and new publishes refused while draining, the stream goes on elsewhere, exit 0, then resumable', async () => {
    const victim = stack.origins.find((o, k) => k > 0 && o.state === 'running')!;
    const stream = await createTestStream('drain-ingest');
    const broadcaster = publish(victim, stream.streamKey);
    await waitFor('three segments', 30_000, async () => (msns(await playlist(stream.id)).length >= 3 ? true : undefined));
    const beforePlaylist = await playlist(stream.id);
    const before = msns(beforePlaylist);

    const termAt = Date.now();
    victim.signal('SIGTERM');
    const readyz = await waitFor('readyz 503', 5_000, async () => {
      const r = await fetch(`${victim.httpUrl}/readyz`);
      return r.status === 503 ? r.status : undefined;
    });
    expect(readyz).toBe(503);

    const late = await createTestStream('during-drain');
    const refused = publish(victim, late.streamKey, 30);
    const refusedExit = await refused.exited;
    expect(refusedExit.code).not.toBe(0);
    expect(refusedExit.at - refused.startedAt).toBeLessThan(GRACE_MS);
    expect(victim.state).toBe('running'); // still draining when it refused
    expect((await streamView(stack, late.id)).status).toBe('idle');

    // During the grace period the broadcaster's stream is transcoded on node 0, relayed from here.
    const during = await segmentsAfter(stream.id, before.at(-1)!, 2, 30_000);
    expect(msns(during).filter((n) => n > before.at(-1)!)[0]).toBe(before.at(-1)! + 1);
    expect(await streamsOn(stack.origins[0]!)).toContain(stream.id);

    await Promise.race([victim.exited(), new Promise((r) => setTimeout(r, GRACE_MS + 20_000))]);
    expect(victim.exit).toMatchObject({ code: 0, signal: null });
    const shutdownMs = victim.exit!.at - termAt;
    console.log(`${victim.nodeId} exited ${shutdownMs} ms after SIGTERM (SHUTDOWN_GRACE_MS=${GRACE_MS})`);
    expect(shutdownMs).toBeGreaterThanOrEqual(GRACE_MS);
    const broadcasterExit = await Promise.race([broadcaster.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
    expect(broadcasterExit).toBeDefined(); // disconnected by the node's exit

    const listedPlaylist = await playlist(stream.id);
    const listed = msns(listedPlaylist);
    expect((await streamView(stack, stream.id)).status).not.toBe('ended');
    await expectServed(stream.id, listedFiles(listedPlaylist));

    // Resumable: the broadcaster reconnects to another node and the stream goes on, MSNs continuing.
    publish(stack.origins[0]!, stream.streamKey);
    const resumed = await segmentsAfter(stream.id, listed.at(-1)!, 2, 40_000);
    const all = msns(resumed);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(all.filter((n) => n > listed.at(-1)!)[0]).toBe(listed.at(-1)! + 1);
    expect((await streamView(stack, stream.id)).status).toBe('live');
    await expectServed(stream.id, listedFiles(listedPlaylist));
  });
});
