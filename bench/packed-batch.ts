/**
 * `npm run bench:packed-batch`: what a viewer batch costs to cross an RPC call, as objects and in
 * columns (`edge/src/viewers/packed-batch.ts`). An RPC argument is structured-cloned with V8's
 * serializer; `node:v8` serialize + deserialize is the same serializer, so the ratio carries over
 * (workerd adds its own fixed cost per call, the same for both). Both forms are timed side by side,
 * alternating, on a batch of BENCH_SESSIONS (6,000 by default: what one edge shard passes on each
 * second for 12,000 viewers of its location polling every 2 s).
 */
import { deserialize, serialize } from 'node:v8';
import { packBatch, unpackBatch } from '../edge/src/viewers/packed-batch.ts';
import { emptyQoe, type ViewerBatch } from '../edge/src/viewers/viewer-batch.ts';
import { machineInfo } from './machine-info.ts';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 6000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 400);
const renditions = ['1080p', '720p', '480p', '360p'];
const now = Date.now();
const batch: ViewerBatch = {
  // Session ids the edge issues are 44 characters of base64url.
  sessions: Array.from({ length: SESSIONS }, (_, i) => ({ sid: `${i.toString(36).padStart(8, '0')}${'x'.repeat(36)}`, rendition: renditions[i % 4]!, lastSeen: now - (i % 2000) })),
  qoe: emptyQoe(),
};

const forms = {
  objects: () => deserialize(serialize(batch)) as ViewerBatch,
  columns: () => unpackBatch(deserialize(serialize(packBatch(batch)))),
};
const times: Record<keyof typeof forms, number> = { objects: 0, columns: 0 };
for (const f of Object.values(forms)) for (let i = 0; i < 50; i++) f(); // warm-up
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, f] of Object.entries(forms) as [keyof typeof forms, () => ViewerBatch][]) {
    const t = performance.now();
    const out = f();
    times[name] += performance.now() - t;
    if (out.sessions.length !== SESSIONS) throw new Error(`${name}: ${out.sessions.length} sessions came back`);
  }
}
console.log(`machine: ${machineInfo()}`);
console.log(`a batch of ${SESSIONS} sessions, pack + serialize + deserialize + unpack, ${ROUNDS} rounds alternating`);
for (const [name, ms] of Object.entries(times)) console.log(`  ${name.padEnd(8)} ${(ms / ROUNDS).toFixed(3)} ms per batch (${((ms / ROUNDS / SESSIONS) * 1e6).toFixed(0)} ns per session)`);
console.log(`objects / columns: ${(times.objects / times.columns).toFixed(2)}×`);
