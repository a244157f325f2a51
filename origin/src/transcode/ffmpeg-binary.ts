import { accessSync, constants, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';

/** Oldest ffmpeg major the origin accepts: older builds lack fixes for untrusted input it decodes. */
export const MIN_FFMPEG_MAJOR = 5;

/** How to get a suitable ffmpeg, quoted in every error about it. */
const INSTALL_HINT = 'install ffmpeg >= 5 (apt-get install ffmpeg) or set FFMPEG_PATH';

/** Which ffmpeg the origin runs, why that one, and its version. */
export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'system';
  /** `5.1.9-0+deb12u1`, or `N-…`/`git-…` for a build from the development branch. */
  version: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile(); // X_OK also holds for directories
  } catch {
    return false;
  }
}

/**
 * The version in `ffmpeg -version`'s first line, and whether it is new enough. Builds from the
 * development branch (`N-12345-g…`, `git-2024-…`) have no release number; they are newer than any
 * release, so they pass. Pure.
 */
export function parseFfmpegVersion(firstLine: string): { version: string; supported: boolean } | undefined {
  const match = /^ffmpeg version (\S+)/.exec(firstLine);
  if (!match) return undefined;
  const version = match[1]!;
  const release = /^n?(\d+)\./.exec(version);
  return { version, supported: release ? Number(release[1]) >= MIN_FFMPEG_MAJOR : /^(N-|git-)/.test(version) };
}

/** Runs `ffmpeg -version` and refuses a binary that is not ffmpeg or older than MIN_FFMPEG_MAJOR. */
function checkVersion(path: string): string {
  const run = spawnSync(path, ['-version'], { encoding: 'utf8', timeout: 10_000 });
  const firstLine = (run.stdout ?? '').split('\n', 1)[0] ?? '';
  const parsed = run.status === 0 ? parseFfmpegVersion(firstLine) : undefined;
  if (!parsed) throw new Error(`${path} -version did not answer like ffmpeg (${run.error?.message ?? `exit ${run.status}: ${firstLine}`}); ${INSTALL_HINT}`);
  if (!parsed.supported) throw new Error(`${path} is ffmpeg ${parsed.version}, older than ${MIN_FFMPEG_MAJOR}; ${INSTALL_HINT}`);
  return parsed.version;
}

/**
 * Resolves ffmpeg at start-up: the configured FFMPEG_PATH, else the first `ffmpeg` on PATH, and
 * checks its version so an unusable one fails the start with the fix rather than the first stream.
 */
export function resolveFfmpeg(configured: string | undefined, pathVariable = process.env.PATH ?? ''): FfmpegBinary {
  if (configured) {
    if (!isExecutable(configured)) throw new Error(`FFMPEG_PATH=${configured} is not an executable file`);
    return { path: configured, source: 'FFMPEG_PATH', version: checkVersion(configured) };
  }
  for (const dir of pathVariable.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'ffmpeg');
    if (isExecutable(candidate)) return { path: candidate, source: 'system', version: checkVersion(candidate) };
  }
  throw new Error(`no ffmpeg on PATH: ${INSTALL_HINT}`);
}
