/**
 * `npm run bench:viewers` — edge load of one live stream: N simulated viewers polling media
 * playlists with their own session ids and M analytics-feed consumers on WebSockets, against the
 * edge Worker under workerd (`wrangler dev`, infra/local/wrangler-dev.ts).
 *
 * The origin is SYNTHETIC here: this benchmark measures the edge, so the stream is made live by
 * calling the signed internal API directly (publish, rendition and segment announces every 2 s,
 * heartbeats every second, signed with shared/src/signing). No RTMP, no ffmpeg, no media bytes.
 *
 * Reports: request errors, achieved request rate, viewer counts from the API against the true
 * counts, p50/p99 delay from an event (a key rotation) to its delivery at every consumer, the
 * snapshot transit time, and StreamDO calls per 1,000 viewer requests (from GET /v1/edge/stats).
 * Goals: zero errors, exact counts, p99 delivery ≤ 1 s, ≤ 10 DO calls per 1,000 viewer requests.
 *
 * Then an LL-HLS phase: the synthetic origin announces a part of each rendition every third of a
 * second (6 a segment), and BENCH_LL_VIEWERS viewers (500) follow their playlist as hls.js in
 * low-latency mode does: a blocking reload on the preload hint (`_HLS_msn`/`_HLS_part`) as soon as
 * the previous one is answered. Reports requests, errors, the hold time of a blocked reload and
 * StreamDO calls per 1,000 requests (goal ≤ 10, zero errors) for BENCH_LL_SECONDS (20).
 *
 * Env: BENCH_VIEWERS (10000), BENCH_CONSUMERS (1000), BENCH_SECONDS (30, polling time),
 * BENCH_CONCURRENCY (64 requests in flight), BENCH_ROTATIONS (5 key rotations).
 */
import { randomBytes } from 'node:crypto';
import { startSyntheticEdge } from './synthetic-edge.ts';
import { managementClient, okData } from '../shared/src/api/management-client.ts';
import { feedMessageSchema } from '../shared/src/feed/feed-messages.ts';
import { INTERNAL_API, partFileName, segmentFileName } from '../shared/src/internal-api.ts';
import { signSession } from '../edge/src/viewers/signed-session.ts';
import { machineInfo, percentile } from './machine-info.ts';

const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 10_000);
const CONSUMERS = Number(process.env.BENCH_CONSUMERS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const ROTATIONS = Number(process.env.BENCH_ROTATIONS ?? 5);
const TARGET_MS = 2000;
const WINDOW_MS = 3 * TARGET_MS;
const RENDITIONS = ['720p', '360p'] as const;
const LL_VIEWERS = Number(process.env.BENCH_LL_VIEWERS ?? 500);
const LL_SECONDS = Number(process.env.BENCH_LL_SECONDS ?? 20);
const PART_MS = 333;
const PARTS_PER_SEGMENT = 6;

console.log(`machine: ${machineInfo(process.env.FFMPEG_PATH ?? 'ffmpeg')}`);
console.log(`viewers ${VIEWERS}, consumers ${CONSUMERS}, ${SECONDS} s of polling, ${CONCURRENCY} requests in flight, ${ROTATIONS} key rotations`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A counting semaphore: the benchmark client must not outgrow the machine it shares with the edge. */
class Limit {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#waiting.push(r));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

const edge = await startSyntheticEdge('bench-viewers');
const { base, adminToken, originSecret } = edge;
const api = managementClient(base, adminToken);
const streamPath = (id: string) => ({ params: { path: { id } } });

const signed = (path: string, body: unknown) => edge.signed(path, body);

let originTimer: NodeJS.Timeout | undefined;
let partTimer: NodeJS.Timeout | undefined;
/** Set for the LL-HLS phase: segments then follow their parts instead of the 2 s clock. */
let llPhase = false;
try {
  // 1. A stream, made live by the synthetic origin.
  const created = await okData(api.POST('/v1/streams', { body: { name: 'bench-viewers' } }));
  const id = created.id;
  const grant = (await (await signed(INTERNAL_API.publish, { streamKey: created.streamKey, nodeId: 'bench-origin', source: { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30, videoKbps: 2500 } })).json()) as { epoch: number };
  let epoch = grant.epoch;
  const announceRenditions = async () => {
    for (const [i, name] of RENDITIONS.entries()) {
      await signed(INTERNAL_API.renditions(id), { epoch, rendition: { name, width: i ? 640 : 1280, height: i ? 360 : 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, declaredBandwidth: i ? 928_000 : 2_928_000, initFile: `init-${epoch}.mp4` } });
    }
  };
  await announceRenditions();
  let msn = 0;
  const announce = async () => {
    const segments = RENDITIONS.map((rendition) => ({ rendition, msn, duration: 2, programDateTime: Date.now(), epoch, file: segmentFileName(msn, epoch), bytes: 400_000 }));
    msn++;
    await signed(INTERNAL_API.segments(id), { epoch, segments });
  };
  for (let i = 0; i < 3; i++) await announce();
  let tick = 0;
  originTimer = setInterval(() => {
    tick++;
    const hb = signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 2500 + (tick % 7), fps: 30, speed: 1, droppedFrames: 0 } });
    const work = tick % 2 === 0 && !llPhase ? Promise.all([hb, announce()]) : hb;
    work.catch((err: unknown) => console.error('synthetic origin call failed:', err));
  }, 1000);

  // 2. M feed consumers, each with its own feed token (the browser path: ?token=; a token holds at
  // most 4 sockets, so one per dashboard).
  const feedUrl = async (): Promise<string> => (await okData(api.POST('/v1/streams/{id}/feed-tokens', { ...streamPath(id), body: {} }))).url;
  let feedErrors = 0;
  let feedMessages = 0;
  const keyRotatedAt: number[][] = Array.from({ length: CONSUMERS }, () => []);
  const snapshotTransit: number[] = [];
  const sockets: WebSocket[] = [];
  const opening: Promise<void>[] = [];
  const wsLimit = new Limit(50);
  for (let c = 0; c < CONSUMERS; c++) {
    await wsLimit.acquire();
    const url = await feedUrl();
    opening.push(
      new Promise<void>((resolve) => {
        const ws = new WebSocket(url);
        sockets.push(ws);
        let opened = false;
        ws.onopen = () => {
          opened = true;
          wsLimit.release();
          resolve();
        };
        ws.onerror = () => {
          feedErrors++;
          if (!opened) {
            wsLimit.release();
            resolve();
          }
        };
        ws.onmessage = (ev) => {
          const at = Date.now();
          feedMessages++;
          const parsed = feedMessageSchema.safeParse(JSON.parse(String(ev.data)));
          if (!parsed.success) return void feedErrors++;
          const m = parsed.data;
          if (m.type === 'event' && m.event.type === 'key_rotated') keyRotatedAt[c]!.push(at);
          if (m.type === 'snapshot' && c % 10 === 0) snapshotTransit.push(at - m.ts);
        };
      }),
    );
  }
  await Promise.all(opening);
  console.log(`feed: ${sockets.filter((s) => s.readyState === WebSocket.OPEN).length}/${CONSUMERS} consumers connected`);

  // 3. N viewers, each polling its media playlist every target duration with its own session id.
  const statsBefore = await okData(api.GET('/v1/edge/stats'));
  // When each viewer's last successful poll was sent and answered: the edge stamped it in between.
  const lastOk = new Float64Array(VIEWERS);
  const lastDone = new Float64Array(VIEWERS);
  let requests = 0;
  let errors = 0;
  const latencies: number[] = [];
  const limit = new Limit(CONCURRENCY);
  // Sessions the edge would have minted (signed with the shared secret): made-up ones are not counted.
  const sids = await Promise.all(Array.from({ length: VIEWERS }, (_, i) => signSession(originSecret, `bench-${String(i).padStart(6, '0')}-${randomBytes(4).toString('hex')}`.padEnd(22, '0').slice(0, 22))));
  const started = Date.now();
  const stopAt = started + SECONDS * 1000;
  const inflight = new Set<Promise<void>>();
  const rotations: number[] = [];
  const rotating = (async () => {
    for (let r = 0; r < ROTATIONS; r++) {
      await sleep((SECONDS * 1000) / (ROTATIONS + 1));
      rotations.push(Date.now());
      const { response } = await api.POST('/v1/streams/{id}/key', streamPath(id));
      if (!response.ok) errors++;
    }
  })();
  let lateMs = 0;
  outer: for (let round = 0; ; round++) {
    for (let i = 0; i < VIEWERS; i++) {
      const due = started + (i / VIEWERS) * TARGET_MS + round * TARGET_MS;
      // Stop on the schedule or, when the client cannot keep up, on the wall clock (lateness is reported).
      if (due >= stopAt || Date.now() >= stopAt) break outer;
      const wait = due - Date.now();
      if (wait > 2) await sleep(wait);
      else lateMs = Math.max(lateMs, -wait);
      await limit.acquire();
      const t0 = Date.now();
      const p = fetch(`${base}/live/${id}/${RENDITIONS[i % 2]}/index.m3u8?sid=${sids[i]}`)
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) {
            lastOk[i] = t0;
            lastDone[i] = Date.now();
          } else errors++;
        })
        .catch(() => void errors++)
        .finally(() => {
          requests++;
          latencies.push(Date.now() - t0);
          limit.release();
          inflight.delete(p);
        });
      inflight.add(p);
    }
  }
  await Promise.all(inflight);
  await rotating;
  const elapsed = (Date.now() - started) / 1000;

  // 4. One probe poll past the 1 s flush boundary so the isolate's last batch reaches the StreamDO.
  await sleep(1100);
  const probeAt = Date.now();
  await (await fetch(`${base}/live/${id}/720p/index.m3u8?sid=${await signSession(originSecret, 'bench-probe-session-00')}`)).arrayBuffer();
  await sleep(500);
  const queryStart = Date.now();
  const view = await okData(api.GET('/v1/streams/{id}', streamPath(id)));
  const queryEnd = Date.now();
  const statsAfter = await okData(api.GET('/v1/edge/stats'));
  // A session is surely in the window if its poll was sent after (query end − window), surely out
  // if it was answered before (query start − window); only polls straddling the boundary are unsure.
  let currentLo = probeAt >= queryEnd - WINDOW_MS ? 1 : 0;
  let currentHi = 1;
  let trueTotal = 1;
  for (let i = 0; i < VIEWERS; i++) {
    if (lastOk[i]! === 0) continue;
    trueTotal++;
    if (lastOk[i]! >= queryEnd - WINDOW_MS) currentLo++;
    if (lastDone[i]! >= queryStart - WINDOW_MS) currentHi++;
  }

  const delays: number[] = [];
  let missing = 0;
  for (const got of keyRotatedAt) {
    for (const [r, sent] of rotations.entries()) {
      const at = got[r];
      if (at === undefined) missing++;
      else delays.push(at - sent);
    }
  }
  const viewerRequests = statsAfter.playlistRequests - statsBefore.playlistRequests;
  const doCalls = statsAfter.doCalls - statsBefore.doCalls;

  console.log('\nresults');
  console.log(`  viewer requests: ${requests} in ${elapsed.toFixed(1)} s = ${(requests / elapsed).toFixed(0)} req/s (wanted ${((VIEWERS * 1000) / TARGET_MS).toFixed(0)} req/s; worst lateness ${lateMs} ms)`);
  console.log(`  request latency: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`);
  console.log(`  errors: ${errors} viewer requests, ${feedErrors} feed (messages received: ${feedMessages})`);
  console.log(`  viewers from the API: current ${view.viewers.current}, peak ${view.viewers.peak}, total ${view.viewers.total} (per rendition ${JSON.stringify(view.viewers.renditions)})`);
  const range = currentLo === currentHi ? `${currentLo}` : `${currentLo}..${currentHi} (${currentHi - currentLo} polls straddle the window's edge)`;
  console.log(`  true counts:          current ${range}, total ${trueTotal} (sessions with a 200 within the last ${WINDOW_MS / 1000} s / ever, incl. the probe)`);
  const currentOk = view.viewers.current >= currentLo && view.viewers.current <= currentHi;
  console.log(`  count exact: current ${currentOk ? (currentLo === currentHi ? 'yes' : 'yes, within the unsure range') : 'NO'}, total ${view.viewers.total === trueTotal ? 'yes' : 'NO'}`);
  console.log(`  event delivery (key rotation → every consumer): ${delays.length} deliveries, p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms, missing ${missing}`);
  console.log(`  snapshot transit (DO send → consumer): p50 ${percentile(snapshotTransit, 50)} ms, p99 ${percentile(snapshotTransit, 99)} ms`);
  console.log(`  StreamDO calls per 1,000 viewer requests: ${((doCalls / Math.max(1, viewerRequests)) * 1000).toFixed(2)} (${doCalls} calls for ${viewerRequests} playlist requests)`);
  for (const s of sockets) s.close(1000, 'bench done');

  // 5. LL-HLS: parts every third of a second, viewers on blocking reloads of the preload hint.
  console.log(`\nLL-HLS phase: ${LL_VIEWERS} viewers on blocking playlist reloads for ${LL_SECONDS} s, a part every ${PART_MS} ms per rendition`);
  // The key rotations above fenced the synthetic origin's epoch: publish again with the current key (a reconnect).
  const { streamKey } = await okData(api.POST('/v1/streams/{id}/key', streamPath(id)));
  const regrant = (await (await signed(INTERNAL_API.publish, { streamKey, nodeId: 'bench-origin', source: { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30, videoKbps: 2500 } })).json()) as { epoch: number; firstMsn: number };
  epoch = regrant.epoch;
  msn = regrant.firstMsn;
  await announceRenditions();
  llPhase = true;
  await announce(); // the new epoch's first segment: its parts' segment follows
  let partIndex = 0;
  const announceParts = async () => {
    const part = partIndex++;
    const last = part === PARTS_PER_SEGMENT - 1;
    const parts = RENDITIONS.map((rendition) => ({ rendition, msn, part, epoch, duration: 0.33333, independent: part === 0, last, file: partFileName(msn, part, epoch) }));
    await signed(INTERNAL_API.parts(id), { epoch, parts });
    if (last) {
      partIndex = 0;
      await announce(); // the segment these parts made, then the next segment's parts
    }
  };
  partTimer = setInterval(() => void announceParts().catch((err: unknown) => console.error('synthetic part announce failed:', err)), PART_MS);
  await sleep(2 * PART_MS);
  const llBefore = await okData(api.GET('/v1/edge/stats'));
  const llStop = Date.now() + LL_SECONDS * 1000;
  let llRequests = 0;
  let llErrors = 0;
  const llStatuses = new Map<number, number>();
  const holds: number[] = [];
  const follow = async (v: number) => {
    const rendition = RENDITIONS[v % 2];
    const sid = `ll-${String(v).padStart(6, '0')}`;
    let directive = '';
    // Spread the viewers' first requests over one part duration.
    await sleep((v / LL_VIEWERS) * PART_MS);
    while (Date.now() < llStop) {
      const t0 = Date.now();
      try {
        const res = await fetch(`${base}/live/${id}/${rendition}/index.m3u8?sid=${sid}${directive}`);
        const body = await res.text();
        llRequests++;
        if (res.status !== 200) {
          llErrors++;
          llStatuses.set(res.status, (llStatuses.get(res.status) ?? 0) + 1);
          await sleep(PART_MS);
          directive = '';
          continue;
        }
        if (directive) holds.push(Date.now() - t0);
        const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-(\d+)-(\d+)-e\d+\.m4s"/.exec(body);
        directive = hint ? `&_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}` : '';
      } catch {
        llRequests++;
        llErrors++;
        await sleep(PART_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: LL_VIEWERS }, (_, v) => follow(v)));
  clearInterval(partTimer);
  const llAfter = await okData(api.GET('/v1/edge/stats'));
  const llPlaylistRequests = llAfter.playlistRequests - llBefore.playlistRequests;
  const llDoCalls = llAfter.doCalls - llBefore.doCalls;
  console.log(`  requests: ${llRequests} in ${LL_SECONDS} s = ${(llRequests / LL_SECONDS).toFixed(0)} req/s; errors ${llErrors}${llStatuses.size ? ` (${JSON.stringify(Object.fromEntries(llStatuses))})` : ''}`);
  console.log(`  blocked reload held: p50 ${percentile(holds, 50)} ms, p95 ${percentile(holds, 95)} ms (a part every ${PART_MS} ms)`);
  console.log(`  StreamDO calls per 1,000 viewer requests: ${((llDoCalls / Math.max(1, llPlaylistRequests)) * 1000).toFixed(2)} (${llDoCalls} calls for ${llPlaylistRequests} playlist requests)`);
} finally {
  clearInterval(originTimer);
  clearInterval(partTimer);
  await edge.close();
}
