import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { parseSettings } from '../settings.ts';

/** Parses the Worker's vars once per request into `c.var.settings`. */
export const settingsMiddleware: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('settings', parseSettings(c.env));
  await next();
};
