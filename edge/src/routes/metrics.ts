import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { healthView } from '../cdn/health-view.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { edgeMetricFamilies } from '../metrics/edge-metrics.ts';
import { isolateMetrics } from '../metrics/isolate-metrics.ts';
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from '../metrics/prometheus-text.ts';
import { registryStub } from '../stream-registry/stream-registry.ts';
import { edgeStats, isolateIdentity } from '../viewers/edge-stats.ts';

/**
 * `GET /v1/metrics` (admin): the edge's numbers in Prometheus text. One registry call per scrape
 * (the StreamDOs push their summaries there), CDN health from this isolate's cached view.
 */
export const metricsRoutes = new Hono<AppEnv>();

metricsRoutes.use('*', adminAuth);

metricsRoutes.get('/', async (c) => {
  const now = Date.now();
  const settings = c.var.settings;
  const [registry, down] = await Promise.all([registryStub(c.env).metrics(), healthView.down(c.env, settings, now)]);
  const families = edgeMetricFamilies({
    now,
    registry,
    cdns: settings.cdns.map((cdn) => ({ id: cdn.id, up: !down.has(cdn.id) })),
    isolate: { startedAt: isolateIdentity().startedAt, stats: edgeStats, metrics: isolateMetrics },
  });
  return c.body(prometheusText(families), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
});
