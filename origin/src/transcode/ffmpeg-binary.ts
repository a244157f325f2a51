import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** Which ffmpeg the origin runs, and why that one. */
export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'system' | '@ffmpeg-installer/ffmpeg';
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
 * Resolves ffmpeg: the configured FFMPEG_PATH, else the first `ffmpeg` on PATH, else the static
 * binary the `@ffmpeg-installer/ffmpeg` package ships (older, but always there after `npm ci`).
 */
export function resolveFfmpeg(configured: string | undefined, pathVariable = process.env.PATH ?? ''): FfmpegBinary {
  if (configured) {
    if (!isExecutable(configured)) throw new Error(`FFMPEG_PATH=${configured} is not an executable file`);
    return { path: configured, source: 'FFMPEG_PATH' };
  }
  for (const dir of pathVariable.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'ffmpeg');
    if (isExecutable(candidate)) return { path: candidate, source: 'system' };
  }
  try {
    const require = createRequire(import.meta.url);
    const installer = require('@ffmpeg-installer/ffmpeg') as { path: string };
    if (isExecutable(installer.path)) return { path: installer.path, source: '@ffmpeg-installer/ffmpeg' };
  } catch {
    // fall through to the error below
  }
  throw new Error('no ffmpeg found: set FFMPEG_PATH, install ffmpeg (apt-get install ffmpeg), or run npm ci');
}
