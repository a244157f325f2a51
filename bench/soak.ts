/**
 * `npm run soak` — a long run of the 3-node local cluster (origin processes, redis-server, the
 * edge under workerd, the loopback S3 server) with relayed and local streams and polling viewers,
 * to show that nothing degrades or breaks with time (issue #8: relays cut by a server timeout,
 * StreamDO tables growing without bound, memory creeping up).
 *
 * Every stream is published to node 0; stream k is created until its rendezvous node is node
 * k mod 3, so stream 0 is transcoded where it is ingested and the others are relayed. Each stream
 * has one viewer that loads the master and the media playlist every second and each new segment
 * once (test/support/playlist-watcher.ts: a media sequence number must keep its meaning, every
 * listed segment must answer 200).
 *
 * Prints progress every 30 s, then: unplanned events (anything after the start but routine
 * retention purges, which are counted, or at the start anything but created / publish_accepted /
 * live / the first viewer's milestone), origin RSS per
 * node and StreamDO rows per stream at start and end, segment listing delay p95 (first seen in the
 * playlist minus EXT-X-PROGRAM-DATE-TIME + duration) in the first and the last minute, and
 * PASS or FAIL (exit code 1) with the reasons.
 *
 * Env: SOAK_MINUTES (15), SOAK_STREAMS (3, at least 3), SOAK_MAX_SEGMENT_ROWS (100 per stream:
 * one rendition of 1 s segments, so an unbounded table passes it within two minutes).
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { startLocalStack } from '../infra/local/local-stack.ts';
import { rendezvousRank } from '../origin/src/cluster/rendezvous.ts';
import { createStream, describeEvents, streamEvents, streamView, waitFor, type CreatedStream, type StreamEventEntry } from '../test/support/e2e-helpers.ts';
import { FFMPEG, publishTestPattern, type FfmpegProcess } from '../test/support/ffmpeg-cli.ts';
import { PlaylistWatcher } from '../test/support/playlist-watcher.ts';
import { machineInfo, percentile } from './machine-info.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 15);
const STREAMS = Math.max(3, Number(process.env.SOAK_STREAMS ?? 3));
const MAX_SEGMENT_ROWS = Number(process.env.SOAK_MAX_SEGMENT_ROWS ?? 100);
const NODES = ['origin-0', 'origin-1', 'origin-2'];
const PLANNED_AT_START = new Set(['created', 'publish_accepted', 'live', 'viewer_milestone']);
/** Housekeeping a healthy live stream logs all along: retention deleting what slid out of its window (one event a half minute). Counted, not unplanned. */
const ROUTINE = new Set(['media_purged']);
const LADDER = { rungs: [{ name: '180p', height: 180, videoKbps: 300 }], audioKbps: 64 };

/** One soaked stream with its broadcaster and its viewer. */
interface Soaked {
  label: string;
  stream: CreatedStream;
  owner: string;
  publisher: FfmpegProcess;
  watcher: PlaylistWatcher;
  masterFailures: string[];
  startSeq: number;
  /** Failed loads before the clock started (the playlists 404 until the first segment): not counted. */
  failedBeforeStart: { media: number; master: number };
}

interface Sample {
  rssMb: Map<string, number>;
  rows: Map<string, { segmentRows: number; eventRows: number } | undefined>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmtMs = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${Math.round(ms)} ms`);

console.log(`machine: ${machineInfo(FFMPEG)}`);
console.log(`soak: ${MINUTES} min, ${STREAMS} streams on 3 origin nodes, 1 s segments, one polling viewer per stream`);

const stack = await startLocalStack({
  origins: 3,
  ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 },
  logger: pino({ level: process.env.SOAK_LOG_LEVEL ?? 'warn' }),
  originEnv: { X264_PRESET: 'ultrafast', NODE_CAPACITY: String(STREAMS) },
});
const soaked: Soaked[] = [];
const masterTimers: NodeJS.Timeout[] = [];
let stopping = false;

async function cleanup(): Promise<void> {
  stopping = true;
  for (const t of masterTimers) clearInterval(t);
  for (const s of soaked) {
    s.publisher.child.kill('SIGKILL');
    await s.watcher.close();
  }
  await stack.close();
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

async function healthOf(httpUrl: string): Promise<{ nodeId: string; pid: number; streams: string[] }> {
  return (await (await fetch(`${httpUrl}/healthz`)).json()) as { nodeId: string; pid: number; streams: string[] };
}

/** VmRSS of each node's process in MB, read from /proc with the pid its /healthz reports. */
async function sample(): Promise<Sample> {
  const rssMb = new Map<string, number>();
  for (const o of stack.origins) {
    const { nodeId, pid } = await healthOf(o.httpUrl);
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    rssMb.set(nodeId, kb / 1024);
  }
  const rows = new Map<string, { segmentRows: number; eventRows: number } | undefined>();
  for (const s of soaked) rows.set(s.label, (await streamView(stack, s.stream.id)).storage);
  return { rssMb, rows };
}

function describeSample(x: Sample): string {
  const rss = [...x.rssMb].map(([n, mb]) => `${n} ${mb.toFixed(0)} MB`).join(', ');
  const rows = [...x.rows].map(([l, r]) => `${l} ${r ? `${r.segmentRows}/${r.eventRows}` : 'n/a'}`).join(', ');
  return `RSS ${rss}; StreamDO segment/event rows ${rows}`;
}

/** Listing delays (ms) of the segments first seen in [from, to). */
function delays(s: Soaked, from: number, to: number): number[] {
  return [...s.watcher.seen.values()]
    .filter((x) => x.firstSeenAt >= from && x.firstSeenAt < to && x.entry.programDateTime !== undefined)
    .map((x) => x.firstSeenAt - (x.entry.programDateTime! + x.entry.duration * 1000));
}

try {
  for (let k = 0; k < STREAMS; k++) {
    const want = NODES[k % NODES.length]!;
    let stream: CreatedStream;
    do stream = await createStream(stack, { name: `soak-${k}`, ladder: LADDER, segmentSeconds: 1 });
    while (rendezvousRank(stream.id, NODES)[0] !== want);
    const label = `s${k}(${want === 'origin-0' ? 'local' : `relayed to ${want}`})`;
    const publisher = publishTestPattern(`${stack.origins[0]!.rtmpUrl}/${stream.streamKey}`, { width: 320, height: 180, fps: 15, gopSeconds: 1, seconds: MINUTES * 60 + 300, videoKbps: 200 });
    const watcher = new PlaylistWatcher({ url: `${stack.edgeUrl}/live/${stream.id}/180p/index.m3u8`, intervalMs: 1000 });
    soaked.push({ label, stream, owner: want, publisher, watcher, masterFailures: [], startSeq: 0, failedBeforeStart: { media: 0, master: 0 } });
  }
  for (const s of soaked) {
    // Placed by rendezvous; if it lands elsewhere (a failed relay re-placed it), the run goes on
    // and the events that say why are reported as unplanned.
    const on = await waitFor(`a node to transcode ${s.label}`, 60_000, async () => {
      for (const o of stack.origins) if ((await healthOf(o.httpUrl)).streams.includes(s.stream.id)) return o.nodeId;
      return undefined;
    });
    if (on !== s.owner) {
      console.log(`${s.label} is transcoded on ${on}, not on its rendezvous node ${s.owner}`);
      s.owner = on;
    }
    s.watcher.start();
    masterTimers.push(
      setInterval(() => {
        if (stopping) return;
        fetch(s.stream.playback.hls, { signal: AbortSignal.timeout(10_000) })
          .then(async (r) => {
            await r.text();
            if (r.status !== 200) s.masterFailures.push(`${new Date().toISOString()} ${r.status}`);
          })
          .catch((err: unknown) => s.masterFailures.push(`${new Date().toISOString()} ${String(err)}`));
      }, 1000),
    );
  }
  for (const s of soaked) await waitFor(`three segments of ${s.label}`, 60_000, () => (s.watcher.seen.size >= 3 ? true : undefined));
  await sleep(3000); // the viewers are counted (the first viewer milestone) before the clock starts

  const startEvents = new Map<string, StreamEventEntry[]>();
  for (const s of soaked) {
    const log = await streamEvents(stack, s.stream.id);
    startEvents.set(s.label, log);
    s.startSeq = log.at(-1)?.seq ?? 0;
    s.failedBeforeStart = { media: s.watcher.failedReloads.length, master: s.masterFailures.length };
  }
  const t0 = Date.now();
  const start = await sample();
  console.log(`start: ${soaked.map((s) => `${s.label} ${s.stream.id}`).join(', ')}`);
  console.log(`start: ${describeSample(start)}`);

  const end = t0 + MINUTES * 60_000;
  while (Date.now() < end) {
    await sleep(Math.min(30_000, end - Date.now()));
    const now = await sample();
    const streams = await Promise.all(
      soaked.map(async (s) => `${s.label} ${(await streamView(stack, s.stream.id)).status} msn ${s.watcher.msns().at(-1)} viol ${s.watcher.violations.length}`),
    );
    console.log(`[+${Math.round((Date.now() - t0) / 1000)} s] ${streams.join(' | ')}; ${describeSample(now)}`);
  }
  const tEnd = Date.now();
  const last = await sample();

  const failures: string[] = [];
  const unplanned: string[] = [];
  console.log('\nresults');
  for (const s of soaked) {
    const atStart = startEvents.get(s.label)!.filter((e) => !PLANNED_AT_START.has(e.type));
    const after = (await streamEvents(stack, s.stream.id, s.startSeq)).filter((e) => e.seq > s.startSeq);
    const routine = after.filter((e) => ROUTINE.has(e.type));
    for (const e of [...atStart, ...after.filter((x) => !ROUTINE.has(x.type))]) unplanned.push(`${s.label}: ${describeEvents([e], t0)} ${JSON.stringify(e.data)}`);
    const purged = routine.reduce((n, e) => n + Number((e.data as { objects?: number }).objects ?? 0), 0);
    console.log(`  ${s.label}: routine events ${routine.length} media_purged (${purged} objects deleted from storage as they left the window)`);
    const view = await streamView(stack, s.stream.id);
    const owner = stack.origins[NODES.indexOf(s.owner)]!;
    const owned = (await healthOf(owner.httpUrl)).streams.includes(s.stream.id);
    const first = delays(s, t0, t0 + 60_000);
    const lastMin = delays(s, tEnd - 60_000, tEnd + 1);
    const [p95First, p95Last] = [percentile(first, 95), percentile(lastMin, 95)];
    console.log(
      `  ${s.label}: status ${view.status}, epoch ${view.epoch}, on ${s.owner}: ${owned}; msns ${s.watcher.msns()[0]}..${s.watcher.msns().at(-1)} ` +
        `(${s.watcher.reloads} reloads); listing delay p95 first minute ${fmtMs(p95First)} (${first.length} segs), last minute ${fmtMs(p95Last)} (${lastMin.length} segs); ` +
        `StreamDO rows start ${JSON.stringify(start.rows.get(s.label) ?? null)} end ${JSON.stringify(last.rows.get(s.label) ?? null)}`,
    );
    if (view.status !== 'live') failures.push(`${s.label} is ${view.status}, not live`);
    if (!owned) failures.push(`${s.label} is no longer transcoded on ${s.owner}`);
    if (s.publisher.child.exitCode !== null) failures.push(`${s.label}: the publisher was disconnected`);
    for (const v of s.watcher.violations.slice(0, 5)) failures.push(`${s.label}: ${v}`);
    if (s.watcher.missing().length > 0) failures.push(`${s.label}: never listed: ${s.watcher.missing().slice(0, 20).join(', ')}`);
    const failedMedia = s.watcher.failedReloads.slice(s.failedBeforeStart.media);
    const failedMaster = s.masterFailures.slice(s.failedBeforeStart.master);
    if (failedMedia.length > 0) failures.push(`${s.label}: ${failedMedia.length} media playlist reloads failed, first ${failedMedia[0]}`);
    if (failedMaster.length > 0) failures.push(`${s.label}: ${failedMaster.length} master playlist loads failed, first ${failedMaster[0]}`);
    if (lastMin.length === 0) failures.push(`${s.label}: no segment listed in the last minute`);
    else if (p95Last > p95First + 2000) failures.push(`${s.label}: listing delay p95 grew from ${fmtMs(p95First)} to ${fmtMs(p95Last)}`);
    const rows = last.rows.get(s.label);
    if (!rows) failures.push(`${s.label}: GET /v1/streams/:id reports no storage.segmentRows / eventRows`);
    else if (rows.segmentRows > MAX_SEGMENT_ROWS) failures.push(`${s.label}: ${rows.segmentRows} segment rows in the StreamDO (more than ${MAX_SEGMENT_ROWS}: not bounded)`);
  }
  for (const o of stack.origins) if (o.exit) failures.push(`${o.nodeId} exited (code ${o.exit.code}, signal ${o.exit.signal})`);
  for (const [node, mb] of last.rssMb) console.log(`  ${node}: RSS ${start.rssMb.get(node)!.toFixed(1)} MB at start, ${mb.toFixed(1)} MB at end`);
  console.log(`  unplanned events: ${unplanned.length}`);
  for (const u of unplanned) console.log(`    ${u}`);
  if (unplanned.length > 0) failures.push(`${unplanned.length} unplanned event(s)`);
  console.log(failures.length === 0 ? `PASS (${MINUTES} min)` : `FAIL (${MINUTES} min): ${failures.join('; ')}`);
  if (failures.length > 0) process.exitCode = 1;
} catch (err) {
  console.log(`FAIL: ${err instanceof Error ? err.message : String(err)}`);
  for (const o of stack.origins) if (o.exit) console.log(`  ${o.nodeId} exited (code ${o.exit.code}, signal ${o.exit.signal})`);
  for (const s of soaked) {
    const log = await streamEvents(stack, s.stream.id).catch(() => []);
    console.log(`  ${s.label} ${s.stream.id}: publisher ${s.publisher.child.exitCode === null ? 'running' : `exited ${s.publisher.child.exitCode}`}; events ${describeEvents(log, log[0]?.ts ?? 0)} ${s.publisher.stderr().slice(-300)}`);
  }
  process.exitCode = 1;
} finally {
  await cleanup();
}
