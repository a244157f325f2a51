import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { edgeStats, isolateIdentity } from '../viewers/edge-stats.ts';

/** `GET /v1/edge/stats` (admin): this isolate's viewer-request and StreamDO-call counters. */
export const edgeStatsRoutes = new Hono<AppEnv>();

edgeStatsRoutes.use('*', adminAuth);

edgeStatsRoutes.get('/stats', (c) => {
  const { id, startedAt } = isolateIdentity();
  return c.json({ isolate: id, uptimeMs: Date.now() - startedAt, ...edgeStats });
});
