/**
 * `GET /watch/:id`: the watch page, a static asset (wrangler `[assets]`); the page reads the id from
 * its own URL and its viewer session from a meta tag this route fills with a session the edge mints
 * and signs (only signed sessions are counted and may send beacons), and its stream's public
 * status (the cached `status.json` answer), so the page asks nothing before its player starts.
 */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { AppEnv } from '../app-env.ts';
import { mintSignedSession } from '../viewers/signed-session.ts';
import { publicStatusJson } from './public-status.ts';

/** The page's path inside the assets directory (edge/public). */
export const WATCH_PAGE_ASSET = '/watch/index.html';

/** The empty session tag in the page's asset, filled per request. */
export const SESSION_META = '<meta name="edgelive-sid" content="">';

/** The empty status tag in the page's asset: filled with the status JSON, left empty when the stream is unknown or gone. */
export const STATUS_META = '<meta name="edgelive-status" content="">';

/** `text` safe inside a double-quoted HTML attribute. */
function attribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The stream's status JSON, or '' when it cannot be served (the page then asks `status.json` and shows why). */
async function statusForPage(c: Context<AppEnv>, id: string): Promise<string> {
  try {
    return (await publicStatusJson(c, id)).body;
  } catch (err) {
    if (err instanceof EdgeliveError && (err.code === 'stream_not_found' || err.code === 'stream_gone')) return '';
    throw err;
  }
}

export async function watchPage(c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  if (!isStreamId(id)) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (!c.env.ASSETS) throw new EdgeliveError('internal', 'no ASSETS binding: the watch page is served from wrangler [assets]');
  const [asset, status] = await Promise.all([c.env.ASSETS.fetch(new Request(new URL(WATCH_PAGE_ASSET, c.req.url))), statusForPage(c, id)]);
  if (!asset.ok) throw new EdgeliveError('internal', `watch page asset answered ${asset.status}`);
  const html = await asset.text();
  for (const tag of [SESSION_META, STATUS_META]) if (!html.includes(tag)) throw new EdgeliveError('internal', `watch page asset lacks ${tag}`);
  const sid = await mintSignedSession(c.var.settings.originSecret);
  // The page now names one viewer's session: no shared cache may hand it to another viewer.
  const page = html.replace(SESSION_META, `<meta name="edgelive-sid" content="${sid}">`).replace(STATUS_META, `<meta name="edgelive-status" content="${attribute(status)}">`);
  return new Response(page, {
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'private, no-store' },
  });
}
