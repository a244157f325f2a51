/**
 * `npm run bench:rewrite` — the CPU cost of per-viewer multi-CDN playlists, in process, with the
 * edge's real functions, against answering the shared (cached) playlist unchanged, in the same run.
 *
 * Per request, the edge takes the shared playlist (Cache API hit; relative URIs) and either
 *   (a) answers it unchanged (no CDN configured), or
 *   (b) ranks the 3 CDNs for the viewer's session (weighted rendezvous, 2 MurmurHash3 rounds per
 *       CDN) and rewrites every URI onto the first healthy one (cdn/viewer-playlists.ts).
 * Both build the same Response and read its bytes. The window is 8 segments of 2 s (the default
 * PLAYLIST_WINDOW_SEGMENTS). Goal: (b) costs at most 2× (a). Also reported: the rewrite alone,
 * the steered master, and rendering the media playlist from the StreamDO's window for scale.
 */
import { cpus } from 'node:os';
import { TEST_CDNS } from '../edge/src/test-support/test-cdns.ts';
import { steerMasterPlaylist } from '../edge/src/cdn/steer-master-playlist.ts';
import { rankHealthyCdns } from '../edge/src/cdn/cdn-ranking.ts';
import { rewriteForViewer } from '../edge/src/cdn/rewrite-for-viewer.ts';
import { playlistResponse } from '../edge/src/playback/playlist-response.ts';
import { renderMasterPlaylist } from '../shared/src/manifest/hls-master-playlist.ts';
import { renderMediaPlaylist, type MediaPlaylistInput } from '../shared/src/manifest/hls-media-playlist.ts';
import { machineInfo, percentile } from './machine-info.ts';
import { FFMPEG } from '../test/support/ffmpeg-cli.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const STREAM = 'k3v9q2x7m4p8w1zd';
const T0 = Date.UTC(2025, 0, 1);
// The StreamDO's window as edge/src/playback/render-playlists.ts hands it to the shared writer.
const mediaInput: MediaPlaylistInput = {
  targetDuration: 2,
  mediaSequence: 1200,
  discontinuitySequence: 0,
  segments: Array.from({ length: 8 }, (_, i) => ({
    uri: `seg-${1200 + i}.m4s`,
    duration: 2,
    programDateTime: T0 + (1200 + i) * 2000,
    mapUri: 'init-1.mp4',
    discontinuity: false,
  })),
  ended: false,
};
const shared = { body: renderMediaPlaylist(mediaInput), maxAge: 1 };
const sharedMaster = renderMasterPlaylist(
  ['1080p', '720p', '480p', '360p'].map((name, i) => ({
    uri: `${name}/index.m3u8`,
    width: [1920, 1280, 854, 640][i]!,
    height: [1080, 720, 480, 360][i]!,
    codecs: 'avc1.64001f,mp4a.40.2',
    frameRate: 30,
    bandwidth: [6_000_000, 3_000_000, 1_500_000, 900_000][i]!,
    averageBandwidth: [5_000_000, 2_500_000, 1_200_000, 800_000][i]!,
  })),
);
const NONE = new Set<string>();
const sids = Array.from({ length: 1024 }, (_, i) => `bench-session-${i.toString(36).padStart(8, '0')}`);

/** Per-request work of each variant; `i` varies the session like real traffic. */
const variants: Record<string, (i: number) => Promise<number> | number> = {
  'unchanged: shared media playlist → Response → bytes': async () => (await playlistResponse(shared).arrayBuffer()).byteLength,
  'rewritten: rank 3 CDNs + rewrite 8 segments → Response → bytes': async (i) =>
    (await playlistResponse({ body: rewriteForViewer(shared.body, { streamId: STREAM, rendition: '720p', sid: sids[i & 1023]!, cdns: TEST_CDNS, down: NONE, hashKey: 'session' }), maxAge: 1 }).arrayBuffer()).byteLength,
  'rewrite alone (rank + text rewrite)': (i) => rewriteForViewer(shared.body, { streamId: STREAM, rendition: '720p', sid: sids[i & 1023]!, cdns: TEST_CDNS, down: NONE, hashKey: 'session' }).length,
  'segment mode rewrite alone (rank per file)': (i) => rewriteForViewer(shared.body, { streamId: STREAM, rendition: '720p', sid: sids[i & 1023]!, cdns: TEST_CDNS, down: NONE, hashKey: 'segment' }).length,
  'steered master (4 variants × 3 pathways) alone': (i) => {
    const sid = sids[i & 1023]!;
    const ranked = rankHealthyCdns(sid, TEST_CDNS, NONE);
    return steerMasterPlaylist(sharedMaster, { pathways: ranked.map((c) => ({ id: c.id, prefix: `${c.baseUrl}/live/${STREAM}/` })), serverUri: `https://edge.example/live/${STREAM}/steering.json?sid=${sid}`, query: `?sid=${sid}` }).length;
  },
  'for scale: render the media playlist from the StreamDO window': () => renderMediaPlaylist(mediaInput).length,
};

/** CPU microseconds per call over `ITERATIONS` calls. */
async function measure(fn: (i: number) => Promise<number> | number): Promise<number> {
  let sink = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < ITERATIONS; i++) sink += await fn(i);
  const used = process.cpuUsage(start);
  if (sink === 0) throw new Error('nothing measured');
  return (used.user + used.system) / ITERATIONS;
}

console.log(`machine: ${machineInfo(FFMPEG)} (${cpus().length} cores shared with other work)`);
console.log(`shared media playlist: ${shared.body.length} bytes, 8 segments; CDNs: ${TEST_CDNS.map((c) => `${c.id}×${c.weight}`).join(', ')}`);
console.log(`${ITERATIONS} calls per round, ${ROUNDS} rounds interleaved, CPU µs per call (median of rounds)\n`);

const names = Object.keys(variants);
for (const name of names) await measure(variants[name]!); // warm-up: JIT every path first
const samples = new Map<string, number[]>(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const name of names) samples.get(name)!.push(await measure(variants[name]!));
const median = (name: string) => percentile(samples.get(name)!, 50);
for (const name of names) console.log(`  ${median(name).toFixed(2).padStart(8)} µs  ${name}`);

const ratio = median(names[1]!) / median(names[0]!);
console.log(`\nrewritten / unchanged per request: ${ratio.toFixed(2)}× (goal ≤ 2×) → ${ratio <= 2 ? 'met' : 'NOT met'}`);
