import { Hono } from 'hono';
import type { AppEnv } from './app-env.ts';
import { handleError, handleNotFound } from './http/error-handler.ts';
import { settingsMiddleware } from './middleware/settings.ts';
import { internalRoutes } from './routes/internal.ts';
import { managementRoutes } from './routes/management.ts';
import { playbackRoutes } from './routes/playback.ts';

/** The edge Worker's HTTP surface: management, internal (origin → edge) and playback routes. */
export const app = new Hono<AppEnv>();

app.use('*', settingsMiddleware);
app.route('/v1/streams', managementRoutes);
app.route('/internal/v1', internalRoutes);
app.route('/live', playbackRoutes);
app.onError(handleError);
app.notFound(handleNotFound);
