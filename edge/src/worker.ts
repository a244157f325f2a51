import { app } from './app.ts';
import type { Env } from './env.ts';

/** The Worker's default export: every request goes through the Hono app. */
export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
