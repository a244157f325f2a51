import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import type { Env } from '../env.ts';
import { parseSettings, type Settings } from '../settings.ts';

/**
 * Vars and secrets are fixed for an isolate's bindings object, so they are validated once per
 * `env` and not on every request (CDNS alone is a JSON parse and a zod pass).
 */
const parsed = new WeakMap<Env, Settings>();

/** Puts the Worker's validated settings in `c.var.settings`. */
export const settingsMiddleware: MiddlewareHandler<AppEnv> = async (c, next) => {
  let settings = parsed.get(c.env);
  if (!settings) {
    settings = parseSettings(c.env);
    parsed.set(c.env, settings);
  }
  c.set('settings', settings);
  await next();
};
