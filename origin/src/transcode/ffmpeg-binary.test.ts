import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from './ffmpeg-binary.ts';

let root: string;
let withFfmpeg: string;
let withOtherFfmpeg: string;
let withNonExecutable: string;
let empty: string;

function fakeBinary(dir: string, mode: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'ffmpeg');
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, mode);
  return path;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'edgelive-ffmpeg-binary-'));
  withFfmpeg = join(root, 'bin-a');
  withOtherFfmpeg = join(root, 'bin-b');
  withNonExecutable = join(root, 'bin-noexec');
  empty = join(root, 'bin-empty');
  fakeBinary(withFfmpeg, 0o755);
  fakeBinary(withOtherFfmpeg, 0o755);
  fakeBinary(withNonExecutable, 0o644);
  mkdirSync(empty);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('resolveFfmpeg', () => {
  it('uses FFMPEG_PATH over anything on PATH', () => {
    const configured = join(withOtherFfmpeg, 'ffmpeg');
    expect(resolveFfmpeg(configured, withFfmpeg)).toEqual({ path: configured, source: 'FFMPEG_PATH' });
  });

  it('refuses a FFMPEG_PATH that is not executable, naming it', () => {
    const configured = join(withNonExecutable, 'ffmpeg');
    expect(() => resolveFfmpeg(configured, withFfmpeg)).toThrow(new Error(`FFMPEG_PATH=${configured} is not an executable file`));
  });

  it('refuses a FFMPEG_PATH that does not exist, naming it', () => {
    const configured = join(root, 'missing', 'ffmpeg');
    expect(() => resolveFfmpeg(configured, withFfmpeg)).toThrow(new Error(`FFMPEG_PATH=${configured} is not an executable file`));
  });

  it('finds an executable ffmpeg on PATH', () => {
    expect(resolveFfmpeg(undefined, withFfmpeg)).toEqual({ path: join(withFfmpeg, 'ffmpeg'), source: 'system' });
  });

  it('takes the first PATH entry that has an executable ffmpeg, skipping empty entries and non-executable files', () => {
    const pathVariable = ['', empty, withNonExecutable, withOtherFfmpeg, withFfmpeg].join(delimiter);
    expect(resolveFfmpeg(undefined, pathVariable)).toEqual({ path: join(withOtherFfmpeg, 'ffmpeg'), source: 'system' });
  });

  it('skips a directory named ffmpeg on PATH and refuses one as FFMPEG_PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgelive-ffdir-'));
    mkdirSync(join(dir, 'ffmpeg'));
    try {
      expect(() => resolveFfmpeg(join(dir, 'ffmpeg'), '')).toThrow(`FFMPEG_PATH=${join(dir, 'ffmpeg')} is not an executable file`);
      expect(resolveFfmpeg(undefined, dir).source).toBe('@ffmpeg-installer/ffmpeg');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats an empty FFMPEG_PATH as unset', () => {
    expect(resolveFfmpeg('', withFfmpeg)).toEqual({ path: join(withFfmpeg, 'ffmpeg'), source: 'system' });
  });

  it('falls back to the binary of @ffmpeg-installer/ffmpeg when PATH has none', () => {
    const installed = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

    expect(resolveFfmpeg(undefined, '')).toEqual({ path: installed, source: '@ffmpeg-installer/ffmpeg' });
    expect(resolveFfmpeg(undefined, [empty, withNonExecutable].join(delimiter))).toEqual({ path: installed, source: '@ffmpeg-installer/ffmpeg' });
    expect(installed).toMatch(/@ffmpeg-installer\/linux-x64\/ffmpeg$/);
  });
});
