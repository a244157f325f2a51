/**
 * `npm run sim:scale` — the fan-out tier under many simulated locations and isolates (issue 14).
 *
 * The real edge Worker and Durable Objects run under workerd (`wrangler dev`, development mode);
 * the harness plays the rest:
 * - a synthetic origin (signed internal API): one LL-HLS stream with 4 renditions, a part of each
 *   every 333 ms, a SIM_SEGMENT_S (8) s segment every 24 parts, a heartbeat a second (no media bytes),
 *   each made on time and announced as the origin's announcer does: one call of each kind in flight,
 *   what was made meanwhile in the next one;
 * - ISOLATES simulated isolates spread over L locations (`/__sim/polls` and the `X-Edgelive-Sim-*`
 *   headers give each its own isolate state and edge shard): every 2 s a round in which every
 *   viewer polls through its isolate (real aggregator, real flush path); 2 % of the viewers change
 *   isolate, and so location, every round; each isolate loads its playlist every ~20 s (keeping
 *   its push subscription, learning whether the tier is engaged); SAMPLE isolates follow LL-HLS
 *   blocking reloads part after part, timing each answer from the moment its part was made;
 * - SAMPLE locations of their own (own<k>) in a second workerd (bench/sim-isolates.wrangler.toml:
 *   the same Worker, with edge shards of its own; its relay and StreamDO bindings reach the first
 *   workerd's objects through wrangler's dev registry), each with its edge shard and one isolate
 *   (o<k>) following blocking reloads: a location whose shard and isolate run on an event loop that
 *   does not also play the rest of the simulated network, as a data center's do. SIM_OWN_THREAD=0
 *   leaves it out.
 *
 * Two sweeps, each step on a fresh stream: 1 → 300 locations at VIEWERS_FIXED viewers, then
 * 1k → 1M viewers at LOCATIONS_FIXED locations. Per step, after WARMUP_S the harness measures for
 * MEASURE_S: StreamDO calls/s from viewers (subscriptions, flushes, relay reports, direct renders;
 * the origin's own calls are constant and listed apart), the busiest shard's calls/s, the largest
 * count error seen (|API viewers.current − viewers| / viewers, sampled every round; a sample taken
 * when the harness itself stalled — no round completed for half a viewer window — is not judged,
 * and the table says how many were), the push delay
 * p50/p99 (part made → held reload answered at the harness), split where the StreamDO took
 * the part (the `at` of its answer): "to DO", the wait for the announce in flight and the announce's
 * way in, which on a saturated thread waits its turn like any request, and "from DO", the tier's
 * part and the answer's way out; the wake after the shard p50/p99
 * (an edge shard hearing a state → a sampled isolate's held reload woken by it, timed inside
 * workerd, so the harness's own delays stay out), the delivery p50/p99 (an edge shard hearing a
 * state → any isolate's copy taking it: the wake is the delivery plus workerd's hop from the request
 * reading the subscription to the held one, which it runs only once its thread has nothing else
 * ready), the same wake and push delay at the locations of their own ("own wake", "own push": their
 * edge shard hears the part from its relay in the first workerd, then shard, copy and held reload run
 * on the second's free thread; the push still waits on the first for the announce, the StreamDO and
 * the relays), how long the harness's rounds took, and each workerd's CPU over the
 * step as a share of one core, the first's first (everything the simulated network does runs on its
 * one thread: near 100 %, every delay above includes its queue).
 * Prints a table, then one JSON line: {"locations":[...],"streamDoCallsPerSecond":[...], ...}.
 *
 * Env: SIM_ISOLATES (400), SIM_VIEWERS_FIXED (100000), SIM_LOCATIONS_FIXED (50), SIM_WARMUP_S (30: one subscription lifetime, so every isolate has moved to its edge shard),
 * SIM_MEASURE_S (20), SIM_LOCATIONS (1,10,50,100,200,300), SIM_VIEWERS (1000,10000,100000,1000000),
 * SIM_SAMPLE (8), SIM_PROFILE (set: print a CPU profile of workerd for each step, the Worker bundled
 * unminified so it names functions), SIM_OWN_THREAD (0: no second workerd),
 * SIM_WORKERD_LOG (a file: every line the wranglers print), SIM_DEBUG (each sample, the relays' last
 * reports, the parts calls' times, the held reloads by outcome). `none` for a list skips that sweep.
 */
import { startSyntheticEdge } from './synthetic-edge.ts';
import { managementClient, okData } from '../shared/src/api/management-client.ts';
import { INTERNAL_API, partFileName, segmentFileName } from '../shared/src/internal-api.ts';
import { machineInfo, percentile } from './machine-info.ts';
import { profileWorkerd } from './workerd-profile.ts';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from '../origin/src/http/child-cpu.ts';

/** A comma-separated list of numbers; `none` skips that sweep. */
const list = (v: string | undefined, fallback: number[]) => (v === 'none' ? [] : v ? v.split(',').map(Number) : fallback);
/** p50 and p99 of some delays, and how many there were. */
interface Spread {
  p50: number;
  p99: number;
  n: number;
}
/** The spread of `xs`, or null when there is none. */
const spread = (xs: number[]): Spread | null => (xs.length ? { p50: percentile(xs, 50), p99: percentile(xs, 99), n: xs.length } : null);
const ISOLATES = Number(process.env.SIM_ISOLATES ?? 400);
const VIEWERS_FIXED = Number(process.env.SIM_VIEWERS_FIXED ?? 100_000);
const LOCATIONS_FIXED = Number(process.env.SIM_LOCATIONS_FIXED ?? 50);
const WARMUP_S = Number(process.env.SIM_WARMUP_S ?? 30);
const MEASURE_S = Number(process.env.SIM_MEASURE_S ?? 20);
const LOCATIONS = list(process.env.SIM_LOCATIONS, [1, 10, 50, 100, 200, 300]);
const VIEWERS = list(process.env.SIM_VIEWERS, [1000, 10_000, 100_000, 1_000_000]);
const SAMPLE = Number(process.env.SIM_SAMPLE ?? 8);
/**
 * SAMPLE locations of their own in a second workerd (bench/sim-isolates.wrangler.toml), each an edge
 * shard and one held-reload follower (o<k> at own<k>), on an event loop that runs only them: their
 * wake is timed where neither the shard nor the isolate also plays the relays, the StreamDO and 400
 * other isolates (docs/scale.md, "A location of its own"). SIM_OWN_THREAD=0 leaves them out.
 */
const OWN_THREAD = process.env.SIM_OWN_THREAD !== '0';
const RENDITIONS = ['1080p', '720p', '480p', '360p'];
/**
 * Segment duration: the viewer window is 3 of them. 8 s (a 24 s window) lets a round of a million
 * polls, which takes this 2-core machine about 10 s, still keep every viewer current; the tier's
 * calls do not depend on it.
 */
const SEGMENT_S = Number(process.env.SIM_SEGMENT_S ?? 8);
const WINDOW_MS = 3 * SEGMENT_S * 1000;
const PART_MS = 333;
const PARTS_PER_SEGMENT = Math.round((SEGMENT_S * 1000) / PART_MS);
const ROUND_MS = 2000;
/** One viewer in MOVER_EVERY changes isolate every round. */
const MOVER_EVERY = 50;

/**
 * CPU seconds used so far by the workerd processes below each of `roots` (a wrangler process): one
 * workerd thread plays everything its process serves, so its share of one core says how much of a
 * step's delays is this machine's queue rather than the design. A workerd that ended is left out.
 */
function workerdCpuSeconds(roots: number[]): number[] {
  const stats = new Map<number, { ppid: number; cpuSeconds: number; workerd: boolean }>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const stat = parseProcStat(line);
      if (stat) stats.set(Number(pid), { ppid: stat.ppid, cpuSeconds: stat.cpuSeconds, workerd: line.slice(line.indexOf('(') + 1, line.lastIndexOf(')')) === 'workerd' });
    } catch {
      // the process ended
    }
  }
  const seconds = roots.map(() => 0);
  for (const [pid, stat] of stats) {
    if (!stat.workerd) continue;
    for (let up = stats.get(pid)?.ppid; up !== undefined && up > 1; up = stats.get(up)?.ppid) {
      const root = roots.indexOf(up);
      if (root >= 0) {
        seconds[root]! += stat.cpuSeconds;
        break;
      }
    }
  }
  return seconds;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const debug = (message: string) => {
  if (process.env.SIM_DEBUG) console.error(`  [${new Date().toISOString().slice(11, 23)}] ${message}`);
};

console.log(`machine: ${machineInfo()}`);
console.log(`${ISOLATES} simulated isolates; locations ${LOCATIONS.join(', ')} at ${VIEWERS_FIXED} viewers; viewers ${VIEWERS.join(', ')} at ${LOCATIONS_FIXED} locations; ${WARMUP_S} s warm-up + ${MEASURE_S} s measured per step`);

// Errors and resets of the Worker or its objects are printed: they would explain a count that dips.
// (Not workerd's "tail session … canceled": it prints those while the profiler's inspector is attached.)
const edge = await startSyntheticEdge(
  'sim-scale',
  (line) => {
    if (process.env.SIM_WORKERD_LOG) appendFileSync(process.env.SIM_WORKERD_LOG, `${new Date().toISOString()} ${line}\n`);
    if (/error|exception|reset|fan-out tier|signal/i.test(line) && !/tail session/.test(line)) console.error(`  workerd: ${line.slice(0, 300)}`);
  },
  { minify: !process.env.SIM_PROFILE, ownThreadIsolates: OWN_THREAD },
);
const { base, adminToken } = edge;
const ownThreadBase = edge.ownThread?.base;
const cpuRoots = [edge.pid, ...(edge.ownThread ? [edge.ownThread.pid] : [])];
debug(`edge ${base}; own-thread followers ${ownThreadBase ?? 'none'}`);
const api = managementClient(base, adminToken);
const admin = { authorization: `Bearer ${adminToken}` };

/** A signed origin call, its answer read to the end (so the connection is reused, as the origin's client does). */
async function signed(path: string, body: unknown): Promise<void> {
  await (await edge.signed(path, body)).arrayBuffer();
}

/** A signed origin call's JSON answer. */
async function signedJson<T>(path: string, body: unknown): Promise<T> {
  return (await (await edge.signed(path, body)).json()) as T;
}

interface CallStats {
  stream: { calls: Record<string, number>; isolates: number; fanout: boolean; relaysCount: boolean; relayReports: { relay: number; ageMs: number; viewers: number }[] };
  relays: { calls: Record<string, number>; relayed: number; applied: number }[];
  edges: { calls: Record<string, number>; relayed: number; applied: number }[];
  /** Held reloads woken through the tier, and states delivered to isolates, since the last read: ms from the edge shard hearing the state. */
  wakes: number[];
  deliveries: number[];
  held: Record<string, number>;
}
/** Calls answered (`isolateSubscriptions` is a part of `subscribePlaylists`, not counted twice). */
const total = (calls: Record<string, number>) => Object.entries(calls).reduce((a, [k, n]) => (k === 'isolateSubscriptions' ? a : a + n), 0);

interface Row {
  locations: number;
  viewers: number;
  streamDoCallsPerSecond: number;
  originCallsPerSecond: number;
  busiestShardCallsPerSecond: number;
  countError: number;
  pushDelayP50Ms: number | null;
  pushDelayP99Ms: number | null;
  /** Of the push delay: announce sent → the StreamDO took the part (its answer's `at`), p50/p99. */
  toStreamDoMs: Spread | null;
  /** The rest: the StreamDO took the part → a sampled held reload answered at the harness, p50/p99. */
  fromStreamDoMs: Spread | null;
  /** Held reloads: the shard hearing the state → the isolate's wake, p50 and p99 (and how many). */
  wakeAfterShardMs: Spread | null;
  /** States reaching isolates' copies: the edge shard hearing the state → the copy taking it, p50 and p99 (every isolate, not only the sampled). */
  deliveryMs: Spread | null;
  /** The same wake at the locations of their own in the second workerd, whose event loop runs only their edge shards and isolates. */
  ownThreadWakeMs: Spread | null;
  /** The delivery to those isolates' copies. */
  ownThreadDeliveryMs: Spread | null;
  /** Push delay to those isolates (the announce, the StreamDO and the relays still in the first workerd). */
  ownThreadPushDelayP50Ms: number | null;
  ownThreadPushDelayP99Ms: number | null;
  roundMs: number;
  /** Each workerd process's CPU over the measured seconds, as a share of one core: the edge's first, then the second's (the locations of their own; not with SIM_OWN_THREAD=0). */
  workerdCpu: number[];
  /** Count samples judged, and those skipped because the harness itself could not keep its viewers polling. */
  samples: number;
  stalledSamples: number;
  fanout: boolean;
  /** The tier's relays count the viewers (else the StreamDO itself). */
  relaysCount: boolean;
  /** Isolates the StreamDO knows the stream is served from. */
  isolates: number;
}

/** One step: a fresh live stream watched by `viewers` viewers through ISOLATES isolates in `locations` locations. */
async function step(locations: number, viewers: number): Promise<Row> {
  const created = await okData(api.POST('/v1/streams', { body: { name: `sim-${locations}-${viewers}`, segmentSeconds: SEGMENT_S } }));
  const id = created.id;
  const grant = (await (await edge.signed(INTERNAL_API.publish, { streamKey: created.streamKey, nodeId: 'sim-origin', source: { videoCodec: 'h264', audioCodec: 'aac', width: 1920, height: 1080, fps: 30, videoKbps: 5000 } })).json()) as { epoch: number; firstMsn: number };
  const epoch = grant.epoch;
  for (const [i, name] of RENDITIONS.entries()) {
    await signed(INTERNAL_API.renditions(id), { epoch, rendition: { name, width: 1920 >> i, height: 1080 >> i, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, declaredBandwidth: 5_000_000 >> i, initFile: `init-${epoch}.mp4` } });
  }
  let msn = grant.firstMsn;
  const segmentsOf = (m: number) => RENDITIONS.map((rendition) => ({ rendition, msn: m, duration: SEGMENT_S, programDateTime: Date.now(), epoch, file: segmentFileName(m, epoch), bytes: 400_000 }));
  for (let i = 0; i < 3; i++) {
    await signed(INTERNAL_API.segments(id), { epoch, segments: segmentsOf(msn) });
    msn++;
  }
  // The synthetic origin, paced as the origin's announcer is (origin/src/announce/stream-outbox.ts,
  // publish/publish-run.ts): a part of every rendition every PART_MS, made on time whatever the edge
  // answers; parts, segments and heartbeats each have one call in flight at most, and what was made
  // meanwhile goes in the next call of its kind (so a slow answer delays, but never skips or
  // reorders, and a heartbeat never waits behind parts). Origin calls counted.
  let originCalls = 0;
  /** When each part (`msn.part`) was made and handed to the announcer: the push delay starts here. */
  const announcedAt = new Map<string, number>();
  let measuring = false;
  /** When the StreamDO took each part (its answer's `at`, workerd's clock: the same machine's). */
  const tookAt = new Map<string, number>();
  let running = true;
  /** Calls of one kind, one in flight at a time: `send` takes what was made since the last call, up to `max` (the internal API's limit). */
  const announcer = <T,>(max: number, send: (batch: T[]) => Promise<void>) => {
    const pending: T[] = [];
    let inFlight: Promise<void> | null = null;
    const flush = (): void => {
      if (inFlight || pending.length === 0) return;
      const batch = pending.splice(0, max);
      originCalls++;
      inFlight = send(batch)
        .catch(() => {})
        .finally(() => {
          inFlight = null;
          flush();
        });
    };
    return {
      add: (item: T) => {
        pending.push(item);
        flush();
      },
      settled: async () => {
        while (inFlight) await inFlight;
      },
    };
  };
  /** Each parts call while measuring: sent → the StreamDO took them, sent → answered, parts in it (SIM_DEBUG prints them). */
  const partCalls: { toDo: number; answered: number; parts: number }[] = [];
  const parts = announcer<{ msn: number; part: number }>(256 / RENDITIONS.length, async (batch) => {
    const sent = Date.now();
    const took = await signedJson<{ at: number }>(INTERNAL_API.parts(id), {
      epoch,
      parts: batch.flatMap(({ msn: m, part: p }) => RENDITIONS.map((rendition) => ({ rendition, msn: m, part: p, epoch, duration: 0.33333, independent: p === 0, last: p === PARTS_PER_SEGMENT - 1, file: partFileName(m, p, epoch) }))),
    });
    for (const { msn: m, part: p } of batch) tookAt.set(`${m}.${p}`, took.at);
    if (measuring) partCalls.push({ toDo: took.at - sent, answered: Date.now() - sent, parts: batch.length });
  });
  const segments = announcer<number>(64 / RENDITIONS.length, (batch) => signed(INTERNAL_API.segments(id), { epoch, segments: batch.flatMap((m) => segmentsOf(m)) }));
  let heartbeatInFlight = false;
  const origin = (async () => {
    let part = 0;
    let next = Date.now();
    let heartbeatDue = next;
    while (running) {
      announcedAt.set(`${msn}.${part}`, Date.now());
      parts.add({ msn, part });
      if (part === PARTS_PER_SEGMENT - 1) {
        segments.add(msn);
        msn++;
        part = 0;
      } else part++;
      if (Date.now() >= heartbeatDue && !heartbeatInFlight) {
        heartbeatDue += 1000;
        heartbeatInFlight = true;
        originCalls++;
        void signed(INTERNAL_API.heartbeat(id), { epoch, metrics: { bitrateKbps: 5000, fps: 30, speed: 1, droppedFrames: 0 } })
          .catch(() => {})
          .finally(() => (heartbeatInFlight = false));
      }
      next += PART_MS;
      await sleep(Math.max(0, next - Date.now()));
    }
    await Promise.all([parts.settled(), segments.settled()]);
  })();

  const isolateName = (i: number) => `i${i}`;
  const locationOf = (i: number) => `L${i % locations}`;
  const simHeaders = (i: number) => ({ 'X-Edgelive-Sim-Isolate': isolateName(i), 'X-Edgelive-Sim-Location': locationOf(i) });
  const movers = Math.floor(viewers / MOVER_EVERY);
  const stayers = viewers - movers;
  const perIsolate = Math.ceil(stayers / ISOLATES);
  const moverBlock = Math.ceil(movers / ISOLATES);
  let round = 0;
  const roundMs: number[] = [];
  /** When each round's polls were accepted (harness clock). */
  const roundsDone: number[] = [];
  const polls = async () => {
    const isolates = [];
    for (let i = 0; i < ISOLATES; i++) {
      const from = i * perIsolate;
      const count = Math.max(0, Math.min(perIsolate, stayers - from));
      if (count > 0) isolates.push({ isolate: isolateName(i), location: locationOf(i), prefix: 's', from, count });
      // Movers: block b polls through isolate (b + round) mod ISOLATES, so 2 % of the viewers change isolate every round.
      const b = (((i - round) % ISOLATES) + ISOLATES) % ISOLATES;
      const mFrom = b * moverBlock;
      const mCount = Math.max(0, Math.min(moverBlock, movers - mFrom));
      if (mCount > 0) isolates.push({ isolate: isolateName(i), location: locationOf(i), prefix: 'm', from: mFrom, count: mCount });
    }
    const started = Date.now();
    const res = await fetch(`${base}/__sim/polls`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ streamId: id, renditions: RENDITIONS, isolates }), signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`polls: ${res.status} ${await res.text()}`);
    roundMs.push(Date.now() - started);
    roundsDone.push(Date.now());
    round++;
  };
  // Playlist loads: each isolate about every 20 s, staggered (keeps its subscription; learns the tier).
  const playlistTimer = setInterval(() => {
    for (let i = round % 10; i < ISOLATES; i += 10) void fetch(`${base}/live/${id}/${RENDITIONS[i % 4]}/index.m3u8`, { headers: simHeaders(i) }).then((r) => r.arrayBuffer()).catch(() => {});
  }, ROUND_MS);
  const pollLoop = (async () => {
    while (running) {
      const started = Date.now();
      await polls().catch((err: unknown) => console.error('polls failed:', err));
      await sleep(Math.max(0, ROUND_MS - (Date.now() - started)));
    }
  })();
  // Sampled isolates follow blocking reloads, timing each answer from when its part was made: SAMPLE of
  // the simulated isolates in the shared workerd, and, when the second one runs, as many isolates
  // there (named o<k>), each at a location of its own with its edge shard in that workerd too.
  const delays: number[] = [];
  /** The sampled held reloads answered while measuring (shared thread): which part, when (split at the StreamDO once the announces answered). */
  const answeredAt: { key: string; at: number }[] = [];
  const ownDelays: number[] = [];
  /** The followers' answers while measuring, by workerd and status (SIM_DEBUG prints them). */
  const answers = new Map<string, number>();
  const tally = (url: string, outcome: string) => {
    if (!measuring) return;
    const key = `${url === ownThreadBase ? 'own-thread' : 'simulated'} ${outcome}`;
    answers.set(key, (answers.get(key) ?? 0) + 1);
  };
  /** The workerds whose followers got a playlist without a preload hint this step (SIM_DEBUG prints the first). */
  const unhinted = new Set<string>();
  const follow = async (k: number, url: string, headers: Record<string, string>, into: number[], answered?: { key: string; at: number }[]) => {
    let directive = '';
    while (running) {
      try {
        const res = await fetch(`${url}/live/${id}/${RENDITIONS[k % 4]}/index.m3u8${directive}`, { headers, signal: AbortSignal.timeout(30_000) });
        const body = await res.text();
        tally(url, String(res.status));
        const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-(\d+)-(\d+)-e\d+\.m4s"/.exec(body);
        const asked = /_HLS_msn=(\d+)&_HLS_part=(\d+)/.exec(directive);
        if (res.status === 200 && asked && measuring) {
          const key = `${asked[1]}.${asked[2]}`;
          const now = Date.now();
          const at = announcedAt.get(key);
          if (at !== undefined) into.push(now - at);
          answered?.push({ key, at: now });
        }
        directive = res.status === 200 && hint ? `?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}` : '';
        if (res.status === 200 && !hint && measuring && !unhinted.has(url)) {
          unhinted.add(url);
          debug(`${url === ownThreadBase ? 'own-thread' : 'simulated'} follower ${k}: a playlist without a preload hint, for ${asked?.[0] ?? 'a plain load'}: … ${body.slice(-300).replaceAll('\n', ' | ')}`);
        }
        // Not blocking: a player reloads after a part target, not at once.
        if (!directive) await sleep(PART_MS);
      } catch (err) {
        tally(url, (err as Error).name);
        await sleep(PART_MS);
      }
    }
  };
  const sampled = (k: number) => Math.floor((k * ISOLATES) / SAMPLE);
  const followers = [
    ...Array.from({ length: SAMPLE }, (_, k) => follow(k, base, simHeaders(sampled(k)), delays, answeredAt)),
    // Each at a location of its own (own<k>), whose edge shard is the second workerd's: the first workerd's L<k> shards stay its isolates' alone.
    ...(ownThreadBase ? Array.from({ length: SAMPLE }, (_, k) => follow(k, ownThreadBase, { 'X-Edgelive-Sim-Isolate': `o${k}`, 'X-Edgelive-Sim-Location': `own${k}` }, ownDelays)) : []),
  ];

  // Wakes since the last read come with every read of the stats: those read while measuring are kept here (SIM_DEBUG reads them every sample too).
  const wakes: number[] = [];
  const deliveries: number[] = [];
  const ownWakes: number[] = [];
  const ownDeliveries: number[] = [];
  /** What became of the held reloads while measuring, in the first workerd and in the own-thread one (SIM_DEBUG prints them). */
  const held = new Map<string, number>();
  const ownHeld = new Map<string, number>();
  const addHeld = (into: Map<string, number>, from: Record<string, number> | undefined) => {
    for (const [k, n] of Object.entries(from ?? {})) into.set(k, (into.get(k) ?? 0) + n);
  };
  /** What `/__sim/wakes` hands over. */
  type Wakes = { wakes: number[]; deliveries: number[]; held: Record<string, number>; isolateCalls: Record<string, number> };
  const takeWakes = async (url: string): Promise<Wakes> => {
    const res = await fetch(`${url}/__sim/wakes`, { headers: admin, signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`wakes at ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Wakes;
  };
  let ownIsolateCalls: Record<string, number> = {};
  const stats = async (): Promise<CallStats> => {
    const locs = Array.from({ length: Math.min(locations, ISOLATES) }, (_, l) => `L${l}`).join(',');
    const res = await fetch(`${base}/__sim/stats/${id}?locations=${locs}`, { headers: admin, signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`stats: ${res.status} ${await res.text()}`);
    const read = (await res.json()) as CallStats;
    const own = ownThreadBase ? await takeWakes(ownThreadBase) : null;
    if (measuring) {
      wakes.push(...read.wakes);
      deliveries.push(...read.deliveries);
      ownWakes.push(...(own?.wakes ?? []));
      ownDeliveries.push(...(own?.deliveries ?? []));
      addHeld(held, read.held);
      addHeld(ownHeld, own?.held);
    }
    if (own) ownIsolateCalls = own.isolateCalls;
    return read;
  };
  debug(`step ${locations} locations, ${viewers} viewers: stream ${id} live, warming up`);
  await sleep(WARMUP_S * 1000);
  const before = await stats();
  measuring = true;
  const originBefore = originCalls;
  const cpuBefore = workerdCpuSeconds(cpuRoots);
  const t0 = Date.now();
  let countError = 0;
  let stalled = 0;
  let samples = 0;
  // SIM_PROFILE=1: where workerd's thread spends the step's first 10 measured seconds.
  const profiled = process.env.SIM_PROFILE ? profileWorkerd(edge.inspectorPort, 10).then((text) => console.log(`  step ${locations} locations, ${viewers} viewers:\n${text}`)) : null;
  while (Date.now() - t0 < MEASURE_S * 1000) {
    await sleep(ROUND_MS);
    const asked = Date.now();
    const current = (await okData(api.GET('/v1/streams/{id}', { params: { path: { id } } }))).viewers.current;
    // Every viewer counts as current only if the harness kept polling it: a sample is judged when
    // rounds completed without a gap longer than half the viewer window during the window before it.
    const done = roundsDone.filter((t) => t <= asked);
    const firstRecent = done.findIndex((t) => t >= asked - WINDOW_MS);
    const times = [...(firstRecent > 0 ? [done[firstRecent - 1]!] : []), ...(firstRecent >= 0 ? done.slice(firstRecent) : []), asked];
    const gap = times.length < 2 ? Infinity : Math.max(...times.slice(1).map((t, i) => t - times[i]!));
    if (gap > WINDOW_MS / 2) {
      stalled++;
      debug(`sample at t+${asked - t0} ms: current ${current} (not judged: the harness's rounds stalled ${gap} ms)`);
      continue;
    }
    samples++;
    countError = Math.max(countError, Math.abs(current - viewers) / viewers);
    debug(`sample at t+${asked - t0} ms: current ${current}`);
    if (process.env.SIM_DEBUG) debug(`  relays' last reports (age ms/viewers): ${(await stats()).stream.relayReports.map((r) => `${r.relay}:${r.ageMs}/${r.viewers}`).join(' ')}`);
  }
  await profiled;
  debug('measured');
  const after = await stats();
  const cpu = workerdCpuSeconds(cpuRoots).map((s, k) => s - cpuBefore[k]!);
  if (process.env.SIM_DEBUG) {
    const shards = (xs: { relayed?: number; applied?: number }[]) => `${xs.reduce((a, x) => a + (x.relayed ?? 0), 0)} relayed, ${xs.reduce((a, x) => a + (x.applied ?? 0), 0)} applied`;
    debug(`relays: ${shards(after.relays)}; edge shards: ${shards(after.edges)}; followers' answers: ${JSON.stringify(Object.fromEntries(answers))}`);
    debug(`parts calls: ${partCalls.length}, parts in one p50/max ${percentile(partCalls.map((c) => c.parts), 50)}/${Math.max(0, ...partCalls.map((c) => c.parts))}, sent → StreamDO took p50/p99 ${JSON.stringify(spread(partCalls.map((c) => c.toDo)))}, sent → answered ${JSON.stringify(spread(partCalls.map((c) => c.answered)))}`);
    debug(`held reloads: ${JSON.stringify(Object.fromEntries(held))}${ownThreadBase ? `; own-thread ${JSON.stringify(Object.fromEntries(ownHeld))}, its isolates' calls so far ${JSON.stringify(ownIsolateCalls)}` : ''}`);
    const sum = (xs: { calls: Record<string, number> }[]) => xs.reduce<Record<string, number>>((acc, x) => (Object.entries(x.calls).forEach(([k, n]) => (acc[k] = (acc[k] ?? 0) + n)), acc), {});
    debug(`calls since the stream began: StreamDO ${JSON.stringify(after.stream.calls)}; edge shards ${JSON.stringify(sum(after.edges))}; relays ${JSON.stringify(sum(after.relays))}`);
  }
  const seconds = (Date.now() - t0) / 1000;
  measuring = false;
  running = false;
  clearInterval(playlistTimer);
  await Promise.all([origin, pollLoop, ...followers]);
  debug('harness stopped');
  await api.POST('/v1/streams/{id}/end', { params: { path: { id } } });
  debug('stream ended');
  const busiest = Math.max(
    ...after.relays.map((r, k) => total(r.calls) - total(before.relays[k]!.calls)),
    ...after.edges.map((e, k) => total(e.calls) - total(before.edges[k]!.calls)),
  );
  return {
    locations,
    viewers,
    streamDoCallsPerSecond: Math.round(((total(after.stream.calls) - total(before.stream.calls)) / seconds) * 10) / 10,
    originCallsPerSecond: Math.round(((originCalls - originBefore) / seconds) * 10) / 10,
    busiestShardCallsPerSecond: Math.round((busiest / seconds) * 10) / 10,
    countError: Math.round(countError * 10_000) / 10_000,
    pushDelayP50Ms: delays.length ? percentile(delays, 50) : null,
    pushDelayP99Ms: delays.length ? percentile(delays, 99) : null,
    toStreamDoMs: spread(answeredAt.flatMap(({ key }) => (tookAt.has(key) && announcedAt.has(key) ? [tookAt.get(key)! - announcedAt.get(key)!] : []))),
    fromStreamDoMs: spread(answeredAt.flatMap(({ key, at }) => (tookAt.has(key) ? [at - tookAt.get(key)!] : []))),
    wakeAfterShardMs: spread(wakes),
    ownThreadWakeMs: spread(ownWakes),
    ownThreadDeliveryMs: spread(ownDeliveries),
    ownThreadPushDelayP50Ms: ownDelays.length ? percentile(ownDelays, 50) : null,
    ownThreadPushDelayP99Ms: ownDelays.length ? percentile(ownDelays, 99) : null,
    deliveryMs: spread(deliveries),
    roundMs: percentile(roundMs, 50),
    workerdCpu: cpu.map((c) => Math.round((c / seconds) * 100) / 100),
    samples,
    stalledSamples: stalled,
    fanout: after.stream.fanout,
    relaysCount: after.stream.relaysCount,
    isolates: after.stream.isolates,
  };
}

const rows: Row[] = [];
const print = (r: Row) =>
  console.log(
    `${String(r.locations).padStart(9)} ${String(r.viewers).padStart(9)} ${String(r.streamDoCallsPerSecond).padStart(12)} ${String(r.originCallsPerSecond).padStart(9)} ${String(r.busiestShardCallsPerSecond).padStart(14)} ${(r.countError * 100).toFixed(2).padStart(9)} % ${(r.pushDelayP99Ms === null ? 'n/a' : `${r.pushDelayP50Ms}/${r.pushDelayP99Ms}`).padStart(14)} ${(r.toStreamDoMs ? `${r.toStreamDoMs.p50}/${r.toStreamDoMs.p99}` : 'n/a').padStart(14)} ${(r.fromStreamDoMs ? `${r.fromStreamDoMs.p50}/${r.fromStreamDoMs.p99}` : 'n/a').padStart(14)} ${(r.wakeAfterShardMs ? `${r.wakeAfterShardMs.p50}/${r.wakeAfterShardMs.p99}` : 'n/a').padStart(14)} ${(r.deliveryMs ? `${r.deliveryMs.p50}/${r.deliveryMs.p99}` : 'n/a').padStart(16)} ${OWN_THREAD ? `${(r.ownThreadWakeMs ? `${r.ownThreadWakeMs.p50}/${r.ownThreadWakeMs.p99}` : 'n/a').padStart(16)} ${(r.ownThreadPushDelayP99Ms === null ? 'n/a' : `${r.ownThreadPushDelayP50Ms}/${r.ownThreadPushDelayP99Ms}`).padStart(16)} ` : ''}${String(r.roundMs).padStart(9)} ${r.workerdCpu.map((c) => `${Math.round(c * 100)}`).join('/').padStart(12)} ${String(`${r.samples}/${r.samples + r.stalledSamples}`).padStart(7)} ${r.fanout ? 'engaged' : 'direct'}${r.relaysCount ? ', relays count' : ''} (${r.isolates} isolates)`,
  );
console.log(`${'locations'.padStart(9)} ${'viewers'.padStart(9)} ${'StreamDO/s'.padStart(12)} ${'origin/s'.padStart(9)} ${'busiest shard/s'.padStart(14)} ${'count err'.padStart(11)} ${'push p50/p99'.padStart(14)} ${'to DO p50/p99'.padStart(14)} ${'from DO p50/p99'.padStart(14)} ${'wake p50/p99'.padStart(14)} ${'delivery p50/p99'.padStart(16)} ${OWN_THREAD ? `${'own wake p50/p99'.padStart(16)} ${'own push p50/p99'.padStart(16)} ` : ''}${'round ms'.padStart(9)} ${'workerd CPU %'.padStart(12)} ${'judged'.padStart(7)} tier`);
try {
  for (const l of LOCATIONS) {
    const r = await step(l, VIEWERS_FIXED);
    rows.push(r);
    print(r);
  }
  for (const v of VIEWERS) {
    const r = await step(LOCATIONS_FIXED, v);
    rows.push(r);
    print(r);
  }
} finally {
  await edge.close();
}
const calls = rows.map((r) => r.streamDoCallsPerSecond);
const flat = Math.max(...calls) / Math.max(0.001, Math.min(...calls));
console.log(`StreamDO calls/s max/min over the sweep: ${flat.toFixed(2)} (goal ≤ 2)`);
console.log(
  JSON.stringify({
    locations: rows.map((r) => r.locations),
    viewers: rows.map((r) => r.viewers),
    streamDoCallsPerSecond: calls,
    busiestShardCallsPerSecond: rows.map((r) => r.busiestShardCallsPerSecond),
    countError: rows.map((r) => r.countError),
    pushDelayP50Ms: rows.map((r) => r.pushDelayP50Ms),
    pushDelayP99Ms: rows.map((r) => r.pushDelayP99Ms),
    toStreamDoP50Ms: rows.map((r) => r.toStreamDoMs?.p50 ?? null),
    toStreamDoP99Ms: rows.map((r) => r.toStreamDoMs?.p99 ?? null),
    fromStreamDoP50Ms: rows.map((r) => r.fromStreamDoMs?.p50 ?? null),
    fromStreamDoP99Ms: rows.map((r) => r.fromStreamDoMs?.p99 ?? null),
    wakeAfterShardP50Ms: rows.map((r) => r.wakeAfterShardMs?.p50 ?? null),
    wakeAfterShardP99Ms: rows.map((r) => r.wakeAfterShardMs?.p99 ?? null),
    wakeSamples: rows.map((r) => r.wakeAfterShardMs?.n ?? 0),
    ownThreadWakeSamples: rows.map((r) => r.ownThreadWakeMs?.n ?? 0),
    deliveryP50Ms: rows.map((r) => r.deliveryMs?.p50 ?? null),
    deliveryP99Ms: rows.map((r) => r.deliveryMs?.p99 ?? null),
    ownThreadWakeP50Ms: rows.map((r) => r.ownThreadWakeMs?.p50 ?? null),
    ownThreadWakeP99Ms: rows.map((r) => r.ownThreadWakeMs?.p99 ?? null),
    ownThreadDeliveryP50Ms: rows.map((r) => r.ownThreadDeliveryMs?.p50 ?? null),
    ownThreadDeliveryP99Ms: rows.map((r) => r.ownThreadDeliveryMs?.p99 ?? null),
    ownThreadPushDelayP99Ms: rows.map((r) => r.ownThreadPushDelayP99Ms),
    workerdCpu: rows.map((r) => r.workerdCpu),
  }),
);
