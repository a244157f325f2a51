/**
 * `npm run bench:relay-pass`: what a fan-out shard does per part with the playlist push (issue 14),
 * before and after it passed changes on as they came (`edge/src/fanout/playlist-relay.ts`,
 * `lazy-state.ts`). Before: parse the change, apply it, diff the new state against the last one
 * sent, write the diff's line. After: read the line's header, add when the shard heard it, write it
 * on; the changes are parsed and applied only when the shard needs the state whole (a new
 * subscriber), here every BENCH_APPLY_EVERY parts (1: every part, the worst case; Infinity: never,
 * what a part costs the shard when it comes, before anyone asks for the whole state). The JavaScript
 * work only: workerd's own cost of reading and writing a message is the same for both. The state is
 * the simulation's: 4 renditions, 8 segments listed, the parts of the last 3 segments and of the
 * current one; forms alternate, BENCH_PARTS parts each round.
 */
import { diff } from '../edge/src/stream-do/push-patch.ts';
import { deltaHeader, deltaLine, stampHeard, type PlaylistPushMessage, type PushDelta } from '../edge/src/stream-do/playlist-push.ts';
import { PushStates } from '../edge/src/stream-do/push-reader.ts';
import { LazyState } from '../edge/src/fanout/lazy-state.ts';
import { liveRendition } from '../edge/src/test-support/live-rendition.ts';
import { machineInfo } from './machine-info.ts';

const PARTS = Number(process.env.BENCH_PARTS ?? 240);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const APPLY_EVERY = (process.env.BENCH_APPLY_EVERY ?? '1,75,Infinity').split(',').map(Number);
const RENDITIONS = ['1080p', '720p', '480p', '360p'];
type StateMessage = Extract<PlaylistPushMessage, { type: 'state' }>;

/** The state after part `p` (6 parts a segment), numbered `seq`. */
const stateAt = (p: number, seq: number): StateMessage => ({
  type: 'state',
  seq,
  renditions: Object.fromEntries(RENDITIONS.map((r) => [r, liveRendition(20 + Math.floor(p / 7), p % 7, { listed: 8, withParts: 3, reports: RENDITIONS.filter((x) => x !== r) })])),
});
const unnumbered = (m: StateMessage) => ({ ...m, seq: undefined, heardAt: undefined });
// What the StreamDO sends: the first state whole, then each part's change, as lines.
const first = stateAt(0, 1);
const lines = Array.from({ length: PARTS }, (_, k) => deltaLine(k + 2, k + 1, diff(unnumbered(stateAt(k, k + 1)), unnumbered(stateAt(k + 1, k + 2)))!));
const encoder = new TextEncoder();

/** Before: every line parsed and applied, the new state diffed against the last sent, the diff's line written. */
function parseDiffWrite(): number {
  const states = new PushStates();
  states.take(first);
  let last: StateMessage = first;
  let bytes = 0;
  for (const line of lines) {
    const state = { ...(states.take(JSON.parse(line) as PushDelta) as StateMessage), heardAt: Date.now() };
    const patch = diff(unnumbered(last), unnumbered(state))!;
    bytes += encoder.encode(`${deltaLine(state.seq, last.seq, patch, state.heardAt)}\n`).length;
    last = state;
  }
  return bytes;
}

/** After: the header read, the line stamped and written on; the whole state made every `applyEvery` parts. */
function passOn(applyEvery: number): number {
  const state = new LazyState(first, Date.now());
  let bytes = 0;
  lines.forEach((line, k) => {
    const header = deltaHeader(line)!;
    const heardAt = Date.now();
    state.add(header.seq, header.base, line, heardAt);
    bytes += encoder.encode(`${stampHeard(line, heardAt)}\n`).length;
    if ((k + 1) % applyEvery === 0) state.state();
  });
  return bytes;
}

const forms: [string, () => number][] = [['parse, diff, write', parseDiffWrite], ...APPLY_EVERY.map((n): [string, () => number] => [Number.isFinite(n) ? `pass on, whole every ${n}` : 'pass on, never whole', () => passOn(n)])];
const times = new Map(forms.map(([name]) => [name, 0]));
for (const [, f] of forms) for (let i = 0; i < 5; i++) f(); // warm-up
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, f] of forms) {
    const t = performance.now();
    if (f() <= 0) throw new Error(`${name} wrote nothing`);
    times.set(name, times.get(name)! + performance.now() - t);
  }
}
console.log(`machine: ${machineInfo()}`);
console.log(`one shard, ${PARTS} parts of a 4-rendition LL-HLS stream (a change line of ${Math.round(lines.reduce((a, l) => a + l.length, 0) / PARTS)} bytes on average), ${ROUNDS} rounds alternating`);
const before = times.get(forms[0]![0])!;
for (const [name, ms] of times) console.log(`  ${name.padEnd(26)} ${((ms / ROUNDS / PARTS) * 1000).toFixed(1).padStart(6)} µs per part${ms === before ? '' : `  (${(before / ms).toFixed(2)}× less)`}`);
