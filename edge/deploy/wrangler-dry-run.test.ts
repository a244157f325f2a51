import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** Repository root: this file lives in edge/deploy/. */
const ROOT = resolve(import.meta.dirname, '../..');
/**
 * Budget for the bundle as the dry-run writes it (wrangler's own size, before upload compression).
 * Workers start faster with a small script; zod imported as `import * as z` keeps it tree-shaken.
 */
const BUNDLE_BUDGET_BYTES = 400 * 1024;

describe('wrangler deploy --dry-run', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'edgelive-dry-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it.each([
    ['', 'edgelive-media'],
    ['staging', 'edgelive-media-staging'],
    ['production', 'edgelive-media'],
  ])('bundles the Worker for environment "%s" (bucket %s) within the size budget, without uploading', (environment, bucket) => {
    const out = join(outdir, environment || 'default');
    const run = spawnSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out, `--env=${environment}`], {
      cwd: ROOT,
      encoding: 'utf8',
      // Never prompt or phone home from a test.
      env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false' },
      timeout: 120_000,
    });
    const listing = `${run.stdout}\n${run.stderr}`;
    expect(run.status, listing).toBe(0);
    const bundle = join(out, 'index.js');
    expect(existsSync(bundle)).toBe(true);
    const code = readFileSync(bundle, 'utf8');
    expect(code).toContain('StreamDO');
    expect(code).toContain('StreamRegistry');
    expect(code).toContain('CdnHealth');
    expect(code).toContain('FleetAnalytics');
    expect(statSync(bundle).size).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
    expect(listing).toContain(`env.MEDIA (${bucket})`);
    // The watch page and its players are static assets (copied from npm by the [build] step), not script.
    expect(listing).toMatch(/env\.ASSETS\s+Assets/);
    expect(listing).toMatch(/Read \d+ files from the assets directory/);
    expect(code).not.toContain('lowLatencyMode');
    // A deployed environment must not point viewers or the edge at loopback addresses.
    if (environment !== '') expect(listing).not.toContain('127.0.0.1');
  });
});
