import type { Context } from 'hono';

/** Runs `work` past the response when the runtime allows it, and logs rather than swallows a failure. */
export function waitUntil(c: Context, work: Promise<unknown>, what: string): void {
  const logged = work.catch((err: unknown) => console.error(`background ${what} failed:`, err));
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    // `app.request()` without an ExecutionContext (unit tests): the promise still runs, unawaited.
  }
}
