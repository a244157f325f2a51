import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { knownMetricNames, promqlMetricNames } from '../../test/support/metric-catalog.ts';

const DIR = import.meta.dirname;
const ROOT = resolve(DIR, '../..');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string; runbook_url: string };
}
const rules = (parse(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`promtool did not run (${run.error.message}); install it: apt-get install prometheus`);
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** GitHub's anchor for a markdown heading. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
}

describe('infra/prometheus/alerts.yml', () => {
  it('passes promtool check rules', () => {
    const run = promtool('check', 'rules', 'alerts.yml');
    expect(run.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run.status).toBe(0);
  });

  it('passes its promtool unit tests (alerts.test.yml)', () => {
    const run = promtool('test', 'rules', 'alerts.test.yml');
    expect(run.out).toContain('SUCCESS');
    expect(run.status, run.out).toBe(0);
  });

  it("has the seeds' alerts and ours", () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'HighStreamLatency', 'LowBufferHealth', 'HighRebuffering', 'HighCdnErrorRate', 'CdnDown', 'StreamErrorRate',
      'OriginDown', 'OriginNotReady', 'FfmpegRestarting', 'RedisErrors', 'OriginOverCapacity', 'SegmentPipelineDelayHigh', 'StorageUploadFailures',
    ]);
  });

  it('unit-tests every alert firing', () => {
    const tests = parse(readFileSync(join(DIR, 'alerts.test.yml'), 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const firing = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect(rules.filter((r) => !firing.has(r.alert)).map((r) => r.alert)).toEqual([]);
  });

  it('links each alert to its section of docs/operations.md', () => {
    const headings = new Set(
      readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')
        .split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => anchor(l.replace(/^#+ /, ''))),
    );
    for (const r of rules) {
      expect(r.annotations.runbook_url, r.alert).toBe(`docs/operations.md#${r.alert.toLowerCase()}`);
      expect(headings.has(r.alert.toLowerCase()), `docs/operations.md has no "${r.alert}" heading`).toBe(true);
    }
  });

  it('names only metrics edgelive exports', async () => {
    const known = await knownMetricNames();
    const unknown = rules.flatMap((r) => promqlMetricNames(r.expr).filter((n) => !known.has(n)).map((n) => `${r.alert}: ${n}`));
    expect(unknown).toEqual([]);
  });
});

describe('promqlMetricNames', () => {
  it('finds the selected metrics, not functions, labels, durations or variables', () => {
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (le) (rate(edgelive_segment_pipeline_delay_seconds_bucket{instance=~"$node"}[5m])))')).toEqual(['edgelive_segment_pipeline_delay_seconds_bucket']);
    expect(promqlMetricNames('sum(a_total) / on(instance) group_left sum without (cdn) (b_total) > bool 1')).toEqual(['a_total', 'b_total']);
    expect(promqlMetricNames('up{job="edgelive-origin"} == 0')).toEqual(['up']);
  });
});
