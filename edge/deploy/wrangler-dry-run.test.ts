import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** Repository root: this file lives in edge/deploy/. */
const ROOT = resolve(import.meta.dirname, '../..');

describe('wrangler deploy --dry-run', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'edgelive-dry-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it.each([[''], ['production']])('bundles the Worker for environment "%s" without uploading', (environment) => {
    const out = join(outdir, environment || 'default');
    const run = spawnSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out, `--env=${environment}`], {
      cwd: ROOT,
      encoding: 'utf8',
      // Never prompt or phone home from a test.
      env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false' },
      timeout: 120_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const bundle = join(out, 'index.js');
    expect(existsSync(bundle)).toBe(true);
    const code = readFileSync(bundle, 'utf8');
    expect(code).toContain('StreamDO');
    expect(code).toContain('StreamRegistry');
  });
});
