import { Hono } from 'hono';
import type { AppEnv } from './app-env.ts';
import { handleError, handleNotFound } from './http/error-handler.ts';
import { settingsMiddleware } from './middleware/settings.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { edgeStatsRoutes } from './routes/edge-stats.ts';
import { feedRoutes } from './routes/feed.ts';
import { internalRoutes } from './routes/internal.ts';
import { managementRoutes } from './routes/management.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { playbackRoutes } from './routes/playback.ts';
import { playbackTokenRoutes } from './routes/playback-tokens.ts';
import { TIME_PATH, timeResponse } from './routes/dash.ts';
import { watchPage } from './routes/watch-page.ts';
import { recordingRoutes } from './routes/recordings.ts';
import { thumbnailRoutes, vodRoutes } from './routes/vod.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { simulationRoutes } from './routes/simulation.ts';

/** The edge Worker's HTTP surface: management, internal (origin → edge) and playback routes. */
export const app = new Hono<AppEnv>();

app.use('*', settingsMiddleware);
// The feed's WebSocket upgrade has its own auth (feed tokens); everything else falls through.
app.route('/v1/streams', feedRoutes);
app.route('/v1/streams', recordingRoutes);
app.route('/v1', analyticsRoutes);
app.route('/v1/streams', playbackTokenRoutes);
app.route('/v1/streams', managementRoutes);
app.route('/v1/webhooks', webhookRoutes);
app.route('/v1/edge', edgeStatsRoutes);
app.route('/v1/metrics', metricsRoutes);
app.route('/v1/openapi.json', openApiRoutes);
app.route('/internal/v1', internalRoutes);
app.route('/__sim', simulationRoutes);
app.route('/live', thumbnailRoutes);
app.route('/live', playbackRoutes);
app.get(TIME_PATH, () => timeResponse());
app.get('/watch/:id', watchPage);
app.route('/vod', vodRoutes);
app.onError(handleError);
app.notFound(handleNotFound);
