/**
 * `npm run bench:pipeline` — two figures for the foundation path, measured on this machine:
 *
 * 1. Segment and part delay: a 720p30 test source is published in real time into the full local
 *    stack (LL-HLS on, the default) through a loopback pass-through that notes when each video
 *    frame's last byte left the publisher (bench/rtmp-send-clock.ts); for each segment and each
 *    LL-HLS part, the delay from the wall time its last frame was sent to it being listed in the
 *    edge's media playlist (p50/p95). Segments are seen by polling every 50 ms; parts by blocking
 *    playlist reloads on the preload hint, as LL-HLS players do, so they are seen the moment the
 *    edge lists them. (The figure the bench printed before the pass-through existed, publisher
 *    start + media time, is printed too: it also counts the publisher's own start-up.)
 * 2. CPU cost of the default ladder: CPU seconds per media second of ONE ffmpeg (decode once,
 *    split, encode; the origin's real command) against the same ladder made by three separate
 *    ffmpeg processes, side by side in the same run, as a ratio. Both scenarios: the top rung
 *    passed through (the default for an H.264 source within the rung) and every rung encoded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEFAULT_LADDER } from '../shared/src/ladder/default-ladder.ts';
import { startLocalStack } from '../infra/local/local-stack.ts';
import { buildFfmpegArgs, ffmpegArgv } from '../origin/src/transcode/ffmpeg-args.ts';
import { planLadder, type TranscodePlan } from '../origin/src/transcode/ladder-plan.ts';
import { createStream } from '../test/support/e2e-helpers.ts';
import { FFMPEG, publishTestPattern } from '../test/support/ffmpeg-cli.ts';
import { machineInfo, percentile } from './machine-info.ts';
import { startRtmpSendClock } from './rtmp-send-clock.ts';

const PUBLISH_SECONDS = Number(process.env.BENCH_PUBLISH_SECONDS ?? 40);
const CPU_MEDIA_SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 20);
const CPU_ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 2);

console.log(`machine: ${machineInfo(FFMPEG)}`);

async function segmentDelay(): Promise<void> {
  console.log(`\n[1/2] segment delay: 720p30 source published for ${PUBLISH_SECONDS} s into the local stack (default ladder)`);
  const stack = await startLocalStack({ ports: { edge: 0, rtmp: 0, originHttp: 0, s3: 0, inspector: 0 }, logger: pino({ level: 'warn' }) });
  try {
    const stream = await createStream(stack, { name: 'bench' });
    const rtmp = new URL(stack.rtmpUrl);
    const clock = await startRtmpSendClock({ host: rtmp.hostname, port: Number(rtmp.port) });
    const publisher = publishTestPattern(clock.url(`${rtmp.pathname}/${stream.streamKey}`), { width: 1280, height: 720, fps: 30, seconds: PUBLISH_SECONDS, videoKbps: 2500 });
    const partsListed = watchParts(`${stack.edgeUrl}/live/${stream.id}/720p/index.m3u8`, () => publisher.child.exitCode !== null);
    const listedAt = new Map<number, number>();
    const durations = new Map<number, number>();
    let poll = 0;
    let reported = 0;
    let firstListedMs: number | undefined;
    while (publisher.child.exitCode === null) {
      // A unique query skips the edge's 1 s playlist cache: this measures when the edge can list it.
      const res = await fetch(`${stack.edgeUrl}/live/${stream.id}/720p/index.m3u8?bench=${poll++}`).catch(() => undefined);
      const body = res && res.ok ? await res.text() : '';
      const now = Date.now();
      const msnMatch = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(body);
      if (msnMatch) {
        let msn = Number(msnMatch[1]);
        for (const m of body.matchAll(/#EXTINF:([\d.]+),/g)) {
          if (!listedAt.has(msn)) listedAt.set(msn, now);
          durations.set(msn, Number(m[1]));
          msn++;
        }
        firstListedMs ??= now - publisher.startedAt;
      }
      if (listedAt.size !== reported) {
        reported = listedAt.size;
        console.log(`  ${((now - publisher.startedAt) / 1000).toFixed(1)} s: ${reported} segments listed`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Let the origin drain and announce the end before the stack goes away.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${stack.edgeUrl}/live/${stream.id}/720p/index.m3u8?end=${i}`);
      if ((await res.text()).includes('#EXT-X-ENDLIST')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await clock.close();
    const firstTs = clock.firstVideoTimestamp ?? 0;
    /** When the last frame before media time `endMs` (from the stream's first frame) left the publisher; half a frame of slack for rounded durations. */
    const lastFrameSent = (endMs: number) => clock.sentAt(firstTs + endMs - 1000 / 60);
    const delays: number[] = [];
    const fromStart: number[] = [];
    let mediaEnd = 0;
    for (const msn of [...durations.keys()].sort((a, b) => a - b)) {
      mediaEnd += durations.get(msn)! * 1000;
      const sent = lastFrameSent(mediaEnd);
      if (msn === 0 || sent === undefined) continue; // msn 0 also pays the stream start-up
      delays.push(listedAt.get(msn)! - sent);
      fromStart.push(listedAt.get(msn)! - (publisher.startedAt + mediaEnd));
    }
    const r = (n: number) => `${Math.round(n)} ms`;
    console.log(`  ${clock.videoFrames} video frames timed as they left the publisher (RTMP timestamps ${firstTs}…)`);
    console.log(`  first segment listed ${firstListedMs} ms after the publisher started (target: < 5000 ms after the first keyframe)`);
    console.log(`  segment last frame sent → listed at the edge over ${delays.length} segments: p50 ${r(percentile(delays, 50))}, p95 ${r(percentile(delays, 95))}, max ${r(Math.max(...delays))} (from publisher start + media time: p50 ${r(percentile(fromStart, 50))})`);
    const parts = await partsListed;
    const segmentStart = new Map<number, number>();
    let start = 0;
    for (const msn of [...durations.keys()].sort((a, b) => a - b)) {
      segmentStart.set(msn, start);
      start += durations.get(msn)! * 1000;
    }
    const partDelays: number[] = [];
    const partFromStart: number[] = [];
    for (const p of parts) {
      const from = segmentStart.get(p.msn);
      const sent = from === undefined ? undefined : lastFrameSent(from + p.endMs);
      if (from === undefined || sent === undefined || p.msn === 0) continue; // msn 0 also pays the stream start-up
      partDelays.push(p.listedAt - sent);
      partFromStart.push(p.listedAt - (publisher.startedAt + from + p.endMs));
    }
    const durationsMs = parts.map((p) => p.durationMs);
    console.log(`  part durations over ${parts.length} parts: min ${r(Math.min(...durationsMs))}, p50 ${r(percentile(durationsMs, 50))}, max ${r(Math.max(...durationsMs))}`);
    console.log(`  part last frame sent → listed at the edge over ${partDelays.length} parts: p50 ${r(percentile(partDelays, 50))}, p95 ${r(percentile(partDelays, 95))}, max ${r(Math.max(...partDelays))} (goal: p50 ≤ 150 ms; from publisher start + media time: p50 ${r(percentile(partFromStart, 50))})`);
    // The origin's own share: part cut from ffmpeg's output → announce accepted by the edge (listed).
    const metrics = await (await fetch(`${stack.originHttpUrl}/metrics`)).text();
    const count = Number(/^edgelive_part_announce_seconds_count (\S+)/m.exec(metrics)?.[1] ?? 0);
    const sum = Number(/^edgelive_part_announce_seconds_sum (\S+)/m.exec(metrics)?.[1] ?? 0);
    const within = (le: string) => Number(new RegExp(`^edgelive_part_announce_seconds_bucket\\{le="${le}"\\} (\\S+)`, 'm').exec(metrics)?.[1] ?? 0);
    const share = (le: string) => `${((within(le) / Math.max(1, count)) * 100).toFixed(0)}%`;
    console.log(`  origin: part cut → listed at the edge over ${count} part announces: mean ${r((sum / Math.max(1, count)) * 1000)}; ≤ 25 ms ${share('0.025')}, ≤ 50 ms ${share('0.05')}, ≤ 150 ms ${share('0.15')}`);
  } finally {
    await stack.close();
  }
}

/** One LL-HLS part as first seen listed: its segment, when it was seen, and its end within the segment (ms). */
interface ListedPart {
  msn: number;
  part: number;
  listedAt: number;
  endMs: number;
  durationMs: number;
}

/**
 * Follows a media playlist with blocking reloads on its preload hint (`_HLS_msn`/`_HLS_part`), as
 * an LL-HLS player does, recording when each part is first listed, until `done()`.
 */
async function watchParts(playlistUrl: string, done: () => boolean): Promise<ListedPart[]> {
  const seen = new Map<string, ListedPart>();
  let query = '?start=1';
  while (!done()) {
    const res = await fetch(`${playlistUrl}${query}`).catch(() => undefined);
    const now = Date.now();
    if (!res || !res.ok) {
      await res?.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
      query = `?retry=${now}`;
      continue;
    }
    const body = await res.text();
    let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(body)?.[1] ?? 0);
    let endMs = 0;
    let part = 0;
    for (const line of body.split('\n')) {
      const p = /^#EXT-X-PART:DURATION=([\d.]+),/.exec(line);
      if (p) {
        const durationMs = Number(p[1]) * 1000;
        endMs += durationMs;
        const key = `${msn}/${part}`;
        if (!seen.has(key)) seen.set(key, { msn, part, listedAt: now, endMs, durationMs });
        part++;
      } else if (line.startsWith('#EXTINF:')) {
        msn++;
        endMs = 0;
        part = 0;
      }
    }
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-(\d+)-(\d+)-e\d+\.m4s"/.exec(body);
    query = hint ? `?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}` : `?wait=${now}`;
    if (!hint) await new Promise((r) => setTimeout(r, 100));
  }
  return [...seen.values()];
}

/** CPU seconds (user + system) of one ffmpeg run, from the shell's `times` for its children. */
function cpuSecondsOf(args: string[]): number {
  const quoted = [FFMPEG, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const out = spawnSync('bash', ['-c', `${quoted} </dev/null >/dev/null 2>/tmp/edgelive-bench-ffmpeg.log; code=$?; times; exit $code`], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ffmpeg failed (${out.status}): see /tmp/edgelive-bench-ffmpeg.log`);
  // `times` prints two lines: the shell's own, then its children's "XmY.YYYs XmY.YYYs".
  const children = out.stdout.trim().split('\n').pop()!;
  return children
    .split(/\s+/)
    .map((t) => /(\d+)m([\d.]+)s/.exec(t))
    .reduce((sum, m) => sum + (m ? Number(m[1]) * 60 + Number(m[2]) : 0), 0);
}

function commandFor(plan: TranscodePlan, source: string, outDir: string): string[] {
  const a = buildFfmpegArgs(plan, { segmentSeconds: 2, preset: 'veryfast', outputUrl: (r) => join(outDir, `${r}.mp4`) });
  return ['-y', '-loglevel', 'error', ...ffmpegArgv(a, source)];
}

function cpuCost(): void {
  console.log(`\n[2/2] CPU seconds per media second, ${CPU_MEDIA_SECONDS} s of 720p30, x264 veryfast, ${CPU_ROUNDS} interleaved rounds`);
  const dir = mkdtempSync(join(tmpdir(), 'edgelive-bench-'));
  try {
    const source = join(dir, 'source.flv');
    spawnSync(FFMPEG, ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(CPU_MEDIA_SECONDS), '-c:v', 'libx264', '-preset', 'veryfast', '-g', '60', '-b:v', '2500k', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', source]);
    const base = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30 };
    const scenarios = [
      { name: 'top rung passed through (source 2500k ≤ 720p rung)', plan: planLadder(DEFAULT_LADDER, { ...base, videoKbps: 2500 }) },
      { name: 'every rung encoded (source above the 720p rung)', plan: planLadder(DEFAULT_LADDER, { ...base, videoKbps: 6000 }) },
    ];
    for (const s of scenarios) {
      const rungs = s.plan.renditions.map((r) => `${r.name}${r.passthrough ? ' (copy)' : ''}`).join(', ');
      let one = 0;
      let three = 0;
      for (let round = 0; round < CPU_ROUNDS; round++) {
        one += cpuSecondsOf(commandFor(s.plan, source, dir));
        for (const r of s.plan.renditions) three += cpuSecondsOf(commandFor({ renditions: [r], audioKbps: s.plan.audioKbps }, source, dir));
      }
      one /= CPU_ROUNDS * CPU_MEDIA_SECONDS;
      three /= CPU_ROUNDS * CPU_MEDIA_SECONDS;
      console.log(`  ${s.name}: ${rungs}`);
      console.log(`    one ffmpeg: ${one.toFixed(3)} CPU s/media s; three ffmpegs: ${three.toFixed(3)} CPU s/media s; ratio one/three = ${(one / three).toFixed(2)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!process.env.BENCH_SKIP_DELAY) await segmentDelay();
if (!process.env.BENCH_SKIP_CPU) cpuCost();
