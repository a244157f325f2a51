/**
 * `npm run bench:origin`: how many concurrent streams one origin node transcodes in real time on
 * this machine, and the CPU cost of the one-ffmpeg ladder against the naive three-process ladder.
 *
 * Each stream is the production ffmpeg command (planLadder + buildFfmpegArgs, x264 at
 * X264_PRESET) reading a 720p30 H.264/AAC FLV in real time (-re), its fragmented-MP4 outputs
 * discarded. Streams ramp up 1, 2, 3… until any ffmpeg's steady speed drops below 0.95 (-re caps speed at 1.0x, so
 * readings hover just under it even when keeping up; below 0.95 it falls behind
 * real time, so segments would too). Cases:
 *   (a) passthrough + two rungs: a 720p source at 2.5 Mb/s → 720p copied, 480p and 360p encoded;
 *   (b) the full default ladder, every rung encoded: a 720p source at 6 Mb/s (over the 720p rung's
 *       bitrate, so it is re-encoded) → 720p, 480p, 360p encoded (1080p is never an upscale).
 * Then CPU seconds per media second of (b) as ONE process vs three processes (one per rung).
 * Settings: BENCH_SECONDS (default 30), BENCH_MAX_STREAMS (default 16), X264_PRESET (veryfast).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LADDER } from '../shared/src/ladder/default-ladder.ts';
import { buildFfmpegArgs, ffmpegArgv } from '../origin/src/transcode/ffmpeg-args.ts';
import { planLadder, type TranscodePlan } from '../origin/src/transcode/ladder-plan.ts';
import { resolveFfmpeg } from '../origin/src/transcode/ffmpeg-binary.ts';
import { machineInfo } from './machine-info.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const MAX_STREAMS = Number(process.env.BENCH_MAX_STREAMS ?? 16);
const PRESET = process.env.X264_PRESET ?? 'veryfast';
const FFMPEG = resolveFfmpeg(process.env.FFMPEG_PATH).path;
const CLK_TCK = 100;
const work = mkdtempSync(join(tmpdir(), 'edgelive-origin-bench-'));

function run(args: string[]): Promise<{ code: number | null; speeds: number[]; cpuSeconds: number }> {
  return new Promise((resolve) => {
    const child = spawn(FFMPEG, ['-hide_banner', '-nostats', '-loglevel', 'error', '-progress', 'pipe:2', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const speeds: number[] = [];
    let cpuTicks = 0;
    const sample = setInterval(() => {
      try {
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        cpuTicks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      } catch {
        // exited between samples: keep the last reading
      }
    }, 200);
    child.stderr!.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/speed=\s*([\d.]+)x/g)) speeds.push(Number(m[1]));
    });
    child.on('exit', (code) => {
      clearInterval(sample);
      resolve({ code, speeds, cpuSeconds: cpuTicks / CLK_TCK });
    });
  });
}

async function makeSource(name: string, kbps: number): Promise<string> {
  const path = join(work, name);
  const r = await run([
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(SECONDS + 2), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps * 2}k`,
    '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', path,
  ]);
  if (r.code !== 0) throw new Error(`could not make the ${name} source`);
  return path;
}

function ladderArgs(plan: TranscodePlan, source: string): string[] {
  const a = buildFfmpegArgs(plan, { segmentSeconds: 2, preset: PRESET, outputUrl: () => '/dev/null' });
  // -t as an input option: every rendition stops after SECONDS of media, the span CPU is divided by.
  return ['-y', ...ffmpegArgv(a, source, ['-re', '-t', String(SECONDS)])];
}

async function ramp(label: string, plan: TranscodePlan, source: string): Promise<number> {
  let sustained = 0;
  for (let n = 1; n <= MAX_STREAMS; n++) {
    const results = await Promise.all(Array.from({ length: n }, () => run(ladderArgs(plan, source))));
    const steady = results.map((r) => r.speeds.slice(Math.floor(r.speeds.length / 3)));
    const minSpeed = Math.min(...steady.map((s) => (s.length ? Math.min(...s) : 0)));
    const failed = results.some((r) => r.code !== 0);
    console.log(`  ${label}: ${n} stream(s): min steady speed ${minSpeed.toFixed(2)}x${failed ? ' (an ffmpeg failed)' : ''}`);
    if (failed || minSpeed < 0.95) break;
    sustained = n;
  }
  return sustained;
}

const rungsDesc = (p: TranscodePlan) => p.renditions.map((r) => `${r.name}${r.passthrough ? ' (copy)' : ''}`).join(', ');
const source = (kbps: number) => ({ videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, fps: 30, videoKbps: kbps });

try {
  console.log(machineInfo(FFMPEG));
  console.log(`origin bench: ${SECONDS} s per step, preset ${PRESET}, up to ${MAX_STREAMS} streams`);
  const srcA = await makeSource('a.flv', 2500);
  const srcB = await makeSource('b.flv', 6000);
  const planA = planLadder(DEFAULT_LADDER, source(2500));
  const planB = planLadder(DEFAULT_LADDER, source(6000));
  console.log(`(a) ladder: ${rungsDesc(planA)}`);
  const a = await ramp('(a)', planA, srcA);
  console.log(`(b) ladder: ${rungsDesc(planB)}`);
  const b = await ramp('(b)', planB, srcB);

  const one = await run(ladderArgs(planB, srcB));
  const three = await Promise.all(
    planB.renditions.map((r) => run(ladderArgs({ ...planB, renditions: [r] }, srcB))),
  );
  const oneCpu = one.cpuSeconds / SECONDS;
  const threeCpu = three.reduce((s, r) => s + r.cpuSeconds, 0) / SECONDS;
  console.log(`
results
  (a) passthrough + two rungs, 720p30 source:  ${a} concurrent stream(s) in real time
  (b) full default ladder encoded, 720p30:     ${b} concurrent stream(s) in real time
  CPU s per media s, ladder (b): one ffmpeg ${oneCpu.toFixed(2)}, three processes ${threeCpu.toFixed(2)} (${((1 - oneCpu / threeCpu) * 100).toFixed(0)}% saved)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
