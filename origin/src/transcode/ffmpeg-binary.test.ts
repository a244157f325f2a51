import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFfmpegVersion, resolveFfmpeg } from './ffmpeg-binary.ts';

let root: string;
let withFfmpeg: string;
let withOtherFfmpeg: string;
let withNonExecutable: string;
let withOldFfmpeg: string;
let withNotFfmpeg: string;
let empty: string;

/** A shell script named ffmpeg whose `-version` prints `firstLine`. */
function fakeBinary(dir: string, mode: number, firstLine = 'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers'): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'ffmpeg');
  writeFileSync(path, `#!/bin/sh\necho '${firstLine}'\necho 'built with gcc 12'\nexit 0\n`);
  chmodSync(path, mode);
  return path;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'edgelive-ffmpeg-binary-'));
  withFfmpeg = join(root, 'bin-a');
  withOtherFfmpeg = join(root, 'bin-b');
  withNonExecutable = join(root, 'bin-noexec');
  withOldFfmpeg = join(root, 'bin-old');
  withNotFfmpeg = join(root, 'bin-not');
  empty = join(root, 'bin-empty');
  fakeBinary(withFfmpeg, 0o755);
  fakeBinary(withOtherFfmpeg, 0o755, 'ffmpeg version 7.1.1 Copyright (c) 2000-2025 the FFmpeg developers');
  fakeBinary(withNonExecutable, 0o644);
  fakeBinary(withOldFfmpeg, 0o755, 'ffmpeg version 4.1 Copyright (c) 2000-2018 the FFmpeg developers');
  fakeBinary(withNotFfmpeg, 0o755, 'usage: something else');
  mkdirSync(empty);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('resolveFfmpeg', () => {
  it('uses FFMPEG_PATH over anything on PATH', () => {
    const configured = join(withOtherFfmpeg, 'ffmpeg');
    expect(resolveFfmpeg(configured, withFfmpeg)).toEqual({ path: configured, source: 'FFMPEG_PATH', version: '7.1.1' });
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
    expect(resolveFfmpeg(undefined, withFfmpeg)).toEqual({ path: join(withFfmpeg, 'ffmpeg'), source: 'system', version: '5.1.9-0+deb12u1' });
  });

  it('takes the first PATH entry that has an executable ffmpeg, skipping empty entries and non-executable files', () => {
    const pathVariable = ['', empty, withNonExecutable, withOtherFfmpeg, withFfmpeg].join(delimiter);
    expect(resolveFfmpeg(undefined, pathVariable)).toEqual({ path: join(withOtherFfmpeg, 'ffmpeg'), source: 'system', version: '7.1.1' });
  });

  it('skips a directory named ffmpeg on PATH and refuses one as FFMPEG_PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgelive-ffdir-'));
    mkdirSync(join(dir, 'ffmpeg'));
    try {
      expect(() => resolveFfmpeg(join(dir, 'ffmpeg'), '')).toThrow(`FFMPEG_PATH=${join(dir, 'ffmpeg')} is not an executable file`);
      expect(() => resolveFfmpeg(undefined, dir)).toThrow(new Error('no ffmpeg on PATH: install ffmpeg >= 5 (apt-get install ffmpeg) or set FFMPEG_PATH'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats an empty FFMPEG_PATH as unset', () => {
    expect(resolveFfmpeg('', withFfmpeg)).toEqual({ path: join(withFfmpeg, 'ffmpeg'), source: 'system', version: '5.1.9-0+deb12u1' });
  });

  it('refuses to start without an ffmpeg, naming the install command', () => {
    expect(() => resolveFfmpeg(undefined, '')).toThrow(new Error('no ffmpeg on PATH: install ffmpeg >= 5 (apt-get install ffmpeg) or set FFMPEG_PATH'));
    expect(() => resolveFfmpeg(undefined, [empty, withNonExecutable].join(delimiter))).toThrow('apt-get install ffmpeg');
  });

  it('refuses an ffmpeg older than 5, with its version and the install command', () => {
    const old = join(withOldFfmpeg, 'ffmpeg');
    expect(() => resolveFfmpeg(undefined, withOldFfmpeg)).toThrow(new Error(`${old} is ffmpeg 4.1, older than 5; install ffmpeg >= 5 (apt-get install ffmpeg) or set FFMPEG_PATH`));
    expect(() => resolveFfmpeg(old, withFfmpeg)).toThrow(`${old} is ffmpeg 4.1, older than 5`);
  });

  it('refuses a FFMPEG_PATH that does not answer -version like ffmpeg', () => {
    const other = join(withNotFfmpeg, 'ffmpeg');
    expect(() => resolveFfmpeg(other, '')).toThrow(new Error(`${other} -version did not answer like ffmpeg (exit 0: usage: something else); install ffmpeg >= 5 (apt-get install ffmpeg) or set FFMPEG_PATH`));
  });

  it('accepts the ffmpeg installed on this machine', () => {
    const found = resolveFfmpeg(undefined);
    expect(found.source).toBe('system');
    expect(parseFfmpegVersion(`ffmpeg version ${found.version}`)?.supported).toBe(true);
  });
});

describe('parseFfmpegVersion', () => {
  it.each([
    ['ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026', { version: '5.1.9-0+deb12u1', supported: true }],
    ['ffmpeg version 6.0 Copyright', { version: '6.0', supported: true }],
    ['ffmpeg version n7.1.1 Copyright', { version: 'n7.1.1', supported: true }],
    ['ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright', { version: '4.4.2-0ubuntu0.22.04.1', supported: false }],
    ['ffmpeg version N-113053-g1ab2c3d Copyright', { version: 'N-113053-g1ab2c3d', supported: true }],
    ['ffmpeg version git-2024-01-01-abc Copyright', { version: 'git-2024-01-01-abc', supported: true }],
    ['ffmpeg version weird-build Copyright', { version: 'weird-build', supported: false }],
  ])('%s', (line, expected) => {
    expect(parseFfmpegVersion(line)).toEqual(expected);
  });

  it('returns undefined for something that is not ffmpeg', () => {
    expect(parseFfmpegVersion('avconv version 12')).toBeUndefined();
  });
});
