import { app } from './app.ts';
import { cdnHealthStub } from './cdn/cdn-health.ts';
import type { Env } from './env.ts';

/** The Worker's default export: requests go through the Hono app; the cron kicks CDN health probing. */
export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  // Every minute (wrangler.toml [triggers]): one probe round, and the CdnHealth alarm loop (every
  // probe interval, below cron's one-minute floor) is restarted if it ever stopped.
  scheduled: async (_controller, env, _ctx) => {
    if (!env.CDNS?.trim()) return;
    await cdnHealthStub(env).probe();
  },
} satisfies ExportedHandler<Env>;
