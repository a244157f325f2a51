import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownMetricNames, promqlMetricNames } from '../../test/support/metric-catalog.ts';

interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; expr: string }[];
}
const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, 'edgelive.json'), 'utf8')) as { uid: string; panels: Panel[] };

describe('infra/grafana/edgelive.json', () => {
  it('has the panels the runbook promises, each with unique ids and a place on the grid', () => {
    expect(dashboard.uid).toBe('edgelive-overview');
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of ['Active streams', 'Viewers per stream (top 10)', 'Ingest bandwidth', 'Egress bandwidth', 'QoE', 'Errors', 'Latency distribution', 'Segment pipeline delay', 'CPU per stream']) {
      expect(titles).toContain(wanted);
    }
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it('queries only metrics the origin and the edge export', async () => {
    const known = await knownMetricNames();
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => promqlMetricNames(t.expr).map((name) => ({ panel: p.title, name }))));
    expect(used.filter((u) => !known.has(u.name))).toEqual([]);
    // Every panel queries something, so an emptied query cannot pass as "no unknown metric".
    for (const p of dashboard.panels) expect(p.targets.flatMap((t) => promqlMetricNames(t.expr)).length, p.title).toBeGreaterThan(0);
  });
});
