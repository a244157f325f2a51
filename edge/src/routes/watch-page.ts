/**
 * `GET /watch/:id`: the watch page, a static asset (wrangler `[assets]`); the page reads the id from
 * its own URL and its viewer session from a meta tag this route fills with a session the edge mints
 * and signs (only signed sessions are counted and may send beacons), so the page costs no extra
 * request before playback starts.
 */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { AppEnv } from '../app-env.ts';
import { mintSignedSession } from '../viewers/signed-session.ts';

/** The page's path inside the assets directory (edge/public). */
export const WATCH_PAGE_ASSET = '/watch/index.html';

/** The empty session tag in the page's asset, filled per request. */
export const SESSION_META = '<meta name="edgelive-sid" content="">';

export async function watchPage(c: Context<AppEnv>): Promise<Response> {
  if (!isStreamId(c.req.param('id') ?? '')) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (!c.env.ASSETS) throw new EdgeliveError('internal', 'no ASSETS binding: the watch page is served from wrangler [assets]');
  const asset = await c.env.ASSETS.fetch(new Request(new URL(WATCH_PAGE_ASSET, c.req.url)));
  if (!asset.ok) throw new EdgeliveError('internal', `watch page asset answered ${asset.status}`);
  const html = await asset.text();
  if (!html.includes(SESSION_META)) throw new EdgeliveError('internal', `watch page asset lacks ${SESSION_META}`);
  const sid = await mintSignedSession(c.var.settings.originSecret);
  // The page now names one viewer's session: no shared cache may hand it to another viewer.
  return new Response(html.replace(SESSION_META, `<meta name="edgelive-sid" content="${sid}">`), {
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'private, no-store' },
  });
}
