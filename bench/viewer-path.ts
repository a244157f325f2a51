/**
 * `npm run bench:viewer-path`: what one viewer's poll costs the fan-out tier on its way to being
 * counted (issue 14; the relay's share is the capacity model's first bottleneck, docs/scale.md):
 * an edge shard merges its location's batch and passes it on once a second (`ViewerRelay`), the
 * home relay counts its partition and passes the others on (`RelaySessions`, `SessionExchange`),
 * each relay counts what it is sent (`PartitionCounter`) and reports twice a second.
 *
 * Now and before, side by side in one run: "before" is the same path in the code of BENCH_BEFORE
 * (default 4b0d127, taken with `git archive` into a temporary directory and imported from there),
 * where each hop turned the sessions into objects, the relay merged them once more before counting,
 * and the exchange made them unique per session. Every batch crosses its hops through
 * `structuredClone`, as an RPC argument does, so session ids arrive as fresh strings. Timed is the
 * process's CPU (user + system) over BENCH_SECONDS simulated seconds of BENCH_VIEWERS viewers
 * polling every 2 s from BENCH_LOCATIONS locations (one edge shard each), R = 8 relays; the two
 * paths alternate, BENCH_ROUNDS rounds each. Also printed: each relay's own CPU per session it
 * counted (the relay's hops only), the figure that says how many viewers one relay carries.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineInfo } from './machine-info.ts';
import { packSessions, type PackedSessions, type PackedViewerBatch } from '../edge/src/viewers/packed-batch.ts';
import { emptyQoe } from '../edge/src/viewers/viewer-batch.ts';
import { ViewerRelay } from '../edge/src/fanout/viewer-relay.ts';
import { RelaySessions } from '../edge/src/fanout/relay-sessions.ts';
import { PartitionCounter } from '../edge/src/fanout/partition-counter.ts';

const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 100_000);
const LOCATIONS = Number(process.env.BENCH_LOCATIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const BEFORE = process.env.BENCH_BEFORE ?? '4b0d127';
const RELAYS = 8;
const RENDITIONS = ['1080p', '720p', '480p', '360p'];

const root = fileURLToPath(new URL('../', import.meta.url));
const beforeDir = mkdtempSync(join(tmpdir(), 'viewer-path-'));
try {
  execFileSync('sh', ['-c', `git -C "${root}" archive ${BEFORE} edge/src shared/src | tar -x -C "${beforeDir}"`]);
} catch (err) {
  console.error(`bench:viewer-path needs the repository's history to compare with ${BEFORE} (set BENCH_BEFORE to another commit): ${(err as Error).message}`);
  process.exit(1);
}
const old = {
  packed: (await import(pathToFileURL(join(beforeDir, 'edge/src/viewers/packed-batch.ts')).href)) as typeof import('../edge/src/viewers/packed-batch.ts'),
  relay: (await import(pathToFileURL(join(beforeDir, 'edge/src/fanout/viewer-relay.ts')).href)) as { ViewerRelay: new (send: (b: { sessions: { sid: string; rendition: string; lastSeen: number }[]; qoe: ReturnType<typeof emptyQoe> }, isolates: number) => Promise<void>, opts?: object) => { add(source: string, isolates: number, batch: unknown, now: number): void } },
  counter: (await import(pathToFileURL(join(beforeDir, 'edge/src/fanout/partition-counter.ts')).href)) as { PartitionCounter: new () => { record(s: unknown[]): void; report(now: number, windowMs: number, forgetBefore: number): unknown; size: number }; partitionOf: (sid: string, relays: number) => number },
  exchange: (await import(pathToFileURL(join(beforeDir, 'edge/src/fanout/session-exchange.ts')).href)) as { SessionExchange: new (send: (relay: number, sessions: unknown[]) => Promise<void>, intervalMs?: number) => { add(relay: number, s: unknown): void } },
};

// Session ids the edge issues are 44 characters of base64url; each viewer stays at one location here.
const sids = Array.from({ length: VIEWERS }, (_, i) => `${i.toString(36).padStart(8, '0')}${'x'.repeat(36)}`);
const t0 = Date.now();
/** What location `c`'s isolates send its edge shard in simulated second `s`: half its viewers poll each second. */
function locationBatch(c: number, s: number): PackedViewerBatch {
  const sessions = [];
  for (let i = c; i < VIEWERS; i += LOCATIONS) if ((i + s) % 2 === 0) sessions.push({ sid: sids[i]!, rendition: RENDITIONS[i % 4]!, lastSeen: t0 + s * 1000 + (i % 1000) });
  return { sessions: packSessions(sessions), qoe: emptyQoe() };
}
const homeRelay = (c: number) => c % RELAYS;
const tick = () => new Promise((r) => setTimeout(r, 2));
const clone = <T>(x: T): T => structuredClone(x);

/** Adds up the time spent in the functions it runs (the relays' own steps). */
function stopwatch() {
  let total = 0;
  return {
    timed<T>(f: () => T): T {
      const t = performance.now();
      try {
        return f();
      } finally {
        total += performance.now() - t;
      }
    },
    ms: () => total,
  };
}

interface Run {
  cpuMs: number;
  relayCpuMs: number;
  counted: number;
}

/** The path in today's code. */
async function now(): Promise<Run> {
  const relayClock = stopwatch();
  const timed = relayClock.timed;
  const counters = Array.from({ length: RELAYS }, () => new PartitionCounter());
  const relays: RelaySessions[] = counters.map((counter, k) => new RelaySessions(counter, k, RELAYS, async (to, sessions) => {
    const copy = clone(sessions);
    timed(() => relays[to]!.take(copy, true));
  }, 0));
  const edges = Array.from({ length: LOCATIONS }, (_, c) => new ViewerRelay(async (batch) => {
    const copy = clone(batch);
    timed(() => relays[homeRelay(c)]!.take(copy.sessions, false));
  }, { intervalMs: 0, refreshMs: 1000 }));
  const cpu = process.cpuUsage();
  for (let s = 0; s < SECONDS; s++) {
    for (let c = 0; c < LOCATIONS; c++) edges[c]!.add(`e${c}`, 1, clone(inputs[s]![c]!), Date.now());
    await tick(); // the edge shards flush, the home relays take
    await tick(); // the exchange
    timed(() => counters.forEach((counter) => counter.report(t0 + s * 1000, 6000, t0 + s * 1000 - 600_000)));
  }
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, relayCpuMs: relayClock.ms(), counted: counters.reduce((n, c) => n + c.size, 0) };
}

/** The same path in BENCH_BEFORE's code (StreamShard's relay steps as it had them). */
async function before(): Promise<Run> {
  const relayClock = stopwatch();
  const timed = relayClock.timed;
  const counters = Array.from({ length: RELAYS }, () => new old.counter.PartitionCounter());
  // A relay's ViewerRelay merged what it kept; it sent its counter the merged sessions with each report.
  const merged = counters.map((counter) => new old.relay.ViewerRelay(async (batch) => timed(() => counter.record(batch.sessions)), { intervalMs: 0 }));
  const exchanges = Array.from({ length: RELAYS }, (_, k) => new old.exchange.SessionExchange(async (to, sessions) => {
    const copy = clone(old.packed.packBatch({ sessions: sessions as never, qoe: emptyQoe() }));
    timed(() => merged[to]!.add(`x:${k}`, 0, old.packed.unpackBatch(copy), Date.now()));
  }, 0));
  const take = (k: number, packed: unknown) =>
    timed(() => {
      const batch = old.packed.unpackBatch(packed as never);
      const own = [];
      for (const s of batch.sessions) {
        const p = old.counter.partitionOf(s.sid, RELAYS);
        if (p === k) own.push(s);
        else exchanges[k]!.add(p, s);
      }
      merged[k]!.add('e', 1, { sessions: own, qoe: batch.qoe }, Date.now());
    });
  const edges = Array.from({ length: LOCATIONS }, (_, c) => new old.relay.ViewerRelay(async (batch) => take(homeRelay(c), clone(old.packed.packBatch(batch))), { intervalMs: 0, refreshMs: 1000 }));
  const cpu = process.cpuUsage();
  for (let s = 0; s < SECONDS; s++) {
    for (let c = 0; c < LOCATIONS; c++) edges[c]!.add(`e${c}`, 1, old.packed.unpackBatch(clone(inputs[s]![c]!) as never), Date.now());
    await tick(); // the edge shards flush, the home relays take
    await tick(); // the exchange
    await tick(); // the relays' merged sessions to their counters
    timed(() => counters.forEach((counter) => counter.report(t0 + s * 1000, 6000, t0 + s * 1000 - 600_000)));
  }
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000, relayCpuMs: relayClock.ms(), counted: counters.reduce((n, c) => n + c.size, 0) };
}

const inputs = Array.from({ length: SECONDS }, (_, s) => Array.from({ length: LOCATIONS }, (_, c) => locationBatch(c, s)));
const polls = inputs.flat().reduce((n, b) => n + b.sessions.sids.length, 0);
const paths = { before, now };
const totals = { before: { cpuMs: 0, relayCpuMs: 0 }, now: { cpuMs: 0, relayCpuMs: 0 } };
console.log(`machine: ${machineInfo()}`);
console.log(`${VIEWERS} viewers polling every 2 s from ${LOCATIONS} locations, ${RELAYS} relays, ${SECONDS} simulated seconds (${polls} polls), ${ROUNDS} rounds alternating; before = ${BEFORE}`);
await before(); // warm-up, both
await now();
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(paths) as [keyof typeof paths, () => Promise<Run>][]) {
    const out = await run();
    if (out.counted !== VIEWERS) throw new Error(`${name}: the relays counted ${out.counted} sessions, not ${VIEWERS}`);
    totals[name].cpuMs += out.cpuMs;
    totals[name].relayCpuMs += out.relayCpuMs;
  }
}
rmSync(beforeDir, { recursive: true, force: true });
for (const [name, t] of Object.entries(totals)) {
  const perPoll = (ms: number) => ((ms / ROUNDS / polls) * 1000).toFixed(2);
  console.log(`  ${name.padEnd(7)} ${perPoll(t.cpuMs)} µs CPU per poll through the tier (edge shard, clones, relays), of it the relays' own ${perPoll(t.relayCpuMs)} µs`);
}
const relayNow = (totals.now.relayCpuMs / ROUNDS / polls) * 1000;
console.log(`ratio before/now: ${(totals.before.cpuMs / totals.now.cpuMs).toFixed(2)} whole path, ${(totals.before.relayCpuMs / totals.now.relayCpuMs).toFixed(2)} relays`);
console.log(`one relay's CPU-second carries ${Math.round(1e6 / relayNow).toLocaleString('en-US')} polls a second now: with one poll per viewer every 2 s, ${Math.round((2 * 1e6) / relayNow).toLocaleString('en-US')} viewers per relay`);
