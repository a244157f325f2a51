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
 *
 * Then (unless BENCH_E2E=0) end to end through `wrangler dev`: the same media playlist (8 segments
 * announced with signed internal calls, no ffmpeg) fetched over HTTP from an edge without CDNs and
 * from one with the 3 CDNs, latency p50/p95 side by side (workerd's HTTP path dominates this).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../infra/local/free-port.ts';
import { startWranglerDev } from '../infra/local/wrangler-dev.ts';
import { managementClient, okData } from '../shared/src/api/management-client.ts';
import { INTERNAL_API, segmentFileName } from '../shared/src/internal-api.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from '../shared/src/signing/request-signature.ts';
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
    uri: `seg-${1200 + i}-e1.m4s`,
    duration: 2,
    programDateTime: T0 + (1200 + i) * 2000,
    mapUri: 'init-1.mp4',
    discontinuity: false,
    gap: false,
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
  'segment mode rewrite alone (file rankings memoised per isolate)': (i) => rewriteForViewer(shared.body, { streamId: STREAM, rendition: '720p', sid: sids[i & 1023]!, cdns: TEST_CDNS, down: NONE, hashKey: 'segment' }).length,
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

const E2E_REQUESTS = Number(process.env.BENCH_E2E_REQUESTS ?? 2000);

/** p50/p95 latency (ms) of `E2E_REQUESTS` sequential GETs of one media playlist through `wrangler dev`. */
async function edgeLatency(cdns: string): Promise<{ p50: number; p95: number; sample: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'edgelive-rewrite-bench-'));
  const secret = 'bench-origin-secret';
  const edge = await startWranglerDev({
    host: '127.0.0.1',
    port,
    inspectorPort: await freePort(),
    persistTo: dir,
    // A probe interval of an hour: the CDN hosts do not exist and must stay "up" for the run.
    vars: { ADMIN_TOKEN: 'bench-admin', ORIGIN_SECRET: secret, EDGELIVE_ENV: 'development', CDNS: cdns, CDN_PROBE_INTERVAL_SECONDS: '3600', LIVENESS_TIMEOUT_SECONDS: '3600' },
  });
  try {
    const signed = async (path: string, body: unknown) => {
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(`${edge.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: await signRequest(secret, 'POST', path, ts, bytes) },
        body: bytes,
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    const stream = await okData(managementClient(edge.url, 'bench-admin').POST('/v1/streams', { body: {} }));
    const source = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30, videoKbps: 2500 };
    const { epoch } = (await signed(INTERNAL_API.publish, { streamKey: stream.streamKey, nodeId: 'bench', source })) as { epoch: number };
    await signed(INTERNAL_API.renditions(stream.id), { epoch, rendition: { name: '720p', width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, declaredBandwidth: 2_628_000, initFile: `init-${epoch}.mp4` } });
    await signed(INTERNAL_API.segments(stream.id), {
      epoch,
      segments: Array.from({ length: 8 }, (_, msn) => ({ rendition: '720p', msn, duration: 2, programDateTime: T0 + msn * 2000, epoch, file: segmentFileName(msn, epoch), bytes: 700_000 })),
    });
    const url = (i: number) => `${edge.url}/live/${stream.id}/720p/index.m3u8?sid=${sids[i & 1023]}`;
    const sample = await (await fetch(url(0))).text();
    for (let i = 0; i < 200; i++) await (await fetch(url(i))).text(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < E2E_REQUESTS; i++) {
      const t = performance.now();
      const res = await fetch(url(i));
      await res.text();
      times.push(performance.now() - t);
    }
    return { p50: percentile(times, 50), p95: percentile(times, 95), sample };
  } finally {
    await edge.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_E2E !== '0') {
  console.log(`\nend to end through wrangler dev: ${E2E_REQUESTS} sequential GETs of a live 8-segment media playlist (Cache API hit), per edge`);
  const plain = await edgeLatency('');
  const steered = await edgeLatency(JSON.stringify(TEST_CDNS));
  if (plain.sample.includes('://') || !steered.sample.includes('.cdn.test/live/')) throw new Error('the edges did not answer as configured');
  console.log(`  no CDN:  p50 ${plain.p50.toFixed(2)} ms, p95 ${plain.p95.toFixed(2)} ms`);
  console.log(`  3 CDNs:  p50 ${steered.p50.toFixed(2)} ms, p95 ${steered.p95.toFixed(2)} ms  (p50 ratio ${(steered.p50 / plain.p50).toFixed(2)}×)`);
}
