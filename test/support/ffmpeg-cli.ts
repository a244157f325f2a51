import { spawn, type ChildProcess } from 'node:child_process';
import { resolveFfmpeg } from '../../origin/src/transcode/ffmpeg-binary.ts';

/** The ffmpeg the origin would use, for test publishers and players too. */
export const FFMPEG = resolveFfmpeg(process.env.FFMPEG_PATH).path;

/** A publisher or player process with its exit and stderr. */
export interface FfmpegProcess {
  child: ChildProcess;
  startedAt: number;
  /** Resolves with the exit code (or null when killed by a signal) and when it happened. */
  exited: Promise<{ code: number | null; at: number }>;
  stderr(): string;
  /** Asks ffmpeg to finish the way a user does (q on stdin), like stopping a broadcast. */
  stop(): void;
}

/** Runs ffmpeg with `args`, capturing stderr. */
export function runFfmpeg(args: string[]): FfmpegProcess {
  const child = spawn(FFMPEG, ['-hide_banner', '-nostats', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const startedAt = Date.now();
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  return {
    child,
    startedAt,
    exited,
    stderr: () => err,
    stop: () => {
      child.stdin?.write('q');
      child.stdin?.end();
    },
  };
}

/** Options of a synthetic broadcaster. */
export interface TestSource {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  videoKbps: number;
  /** Seconds between keyframes (2 unless set). */
  gopSeconds?: number;
  /** Video encoder: libx264 normally; `flv` (Sorenson) to test codec refusal. */
  videoCodec?: 'libx264' | 'flv';
  audioCodec?: 'aac' | 'libmp3lame';
}

/** Publishes a test pattern with a tone to `url` in real time (-re), keyframe every `gopSeconds` (2 s). */
export function publishTestPattern(url: string, src: TestSource): FfmpegProcess {
  const gop = String(Math.round(src.fps * (src.gopSeconds ?? 2)));
  const video =
    (src.videoCodec ?? 'libx264') === 'libx264'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', gop, '-keyint_min', gop, '-b:v', `${src.videoKbps}k`, '-maxrate', `${src.videoKbps}k`, '-bufsize', `${src.videoKbps * 2}k`]
      : ['-c:v', 'flv', '-b:v', `${src.videoKbps}k`];
  return runFfmpeg([
    '-loglevel', 'error',
    '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=${src.width}x${src.height}:rate=${src.fps}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(src.seconds),
    ...video,
    '-c:a', src.audioCodec ?? 'aac', '-b:a', '64k',
    '-f', 'flv', url,
  ]);
}

/** Plays an HLS URL the way a viewer's player would, copying `seconds` of media to nowhere. */
export function playHls(url: string, seconds: number): FfmpegProcess {
  return runFfmpeg(['-loglevel', 'error', '-i', url, '-c', 'copy', '-t', String(seconds), '-f', 'null', '-']);
}
