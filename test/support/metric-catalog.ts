/**
 * Every metric name edgelive exports, taken from the code itself: the origin's registry
 * (OriginMetrics) and the edge's `/v1/metrics` families (edgeMetricFamilies). The alert and
 * dashboard tests check that their PromQL names nothing else.
 */
import { edgeMetricFamilies } from '../../edge/src/metrics/edge-metrics.ts';
import { IsolateMetrics } from '../../edge/src/metrics/isolate-metrics.ts';
import { OriginMetrics } from '../../origin/src/http/origin-metrics.ts';

/** Series Prometheus adds itself for every scrape target. */
const SCRAPE_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

function withSuffixes(name: string, type: string): string[] {
  if (type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === 'summary') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

/** Metric names as they appear in PromQL (histograms by their `_bucket`/`_sum`/`_count` series). */
export async function knownMetricNames(): Promise<Set<string>> {
  const origin = await new OriginMetrics().registry.getMetricsAsJSON();
  const edge = edgeMetricFamilies({
    now: 0,
    registry: { statusCounts: {}, live: [] },
    cdns: [],
    isolate: { startedAt: 0, stats: { playlistRequests: 0, beacons: 0, doCalls: 0 }, metrics: new IsolateMetrics() },
  });
  return new Set([...SCRAPE_SERIES, ...origin.flatMap((m) => withSuffixes(m.name, String(m.type))), ...edge.flatMap((f) => withSuffixes(f.name, f.type))]);
}

/** PromQL words that are not metric names. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: identifiers that are not functions, keywords,
 * label names (inside `{…}` or grouping clauses), durations, strings or Grafana variables.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}
