/**
 * `GET /watch/:id`: the watch page, a static asset (wrangler `[assets]`); the page reads the id from
 * its own URL and its viewer session from a meta tag this route fills with a session the edge mints
 * and signs (only signed sessions are counted and may send beacons), and its stream's public
 * status (the cached `status.json` answer), so the page asks nothing before its player starts. When
 * the stream is playable in hls.js, the page's head also preloads this viewer's master playlist and
 * the media playlist and init segment hls.js will ask for first (playback/start-preloads.ts), so
 * they are on their way while the page loads its scripts (the page's player reads them from there).
 */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { AppEnv } from '../app-env.ts';
import { startPreloads } from '../playback/start-preloads.ts';
import { mintSignedSession } from '../viewers/signed-session.ts';
import { publicStatusJson } from './public-status.ts';

/** The page's path inside the assets directory (edge/public). */
export const WATCH_PAGE_ASSET = '/watch/index.html';

/** The empty session tag in the page's asset, filled per request. */
export const SESSION_META = '<meta name="edgelive-sid" content="">';

/** The empty status tag in the page's asset: filled with the status JSON, left empty when the stream is unknown or gone. */
export const STATUS_META = '<meta name="edgelive-status" content="">';

/** Where the page's head gets the master playlist's preload; the asset's own preload of hls.js stays first. */
export const PRELOAD_ANCHOR = '<link rel="icon" href="data:,">';

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

/**
 * The master playlist URL the page's player asks for, exactly as `watch.js` builds it (session, then
 * token), when the page will start hls.js at once: the stream has something to play and neither another
 * player nor hls.js's own start (`early=0`) was asked for. Null otherwise (nothing to preload).
 */
export function preloadedMasterUrl(id: string, sid: string, pageQuery: URLSearchParams, status: string): string | null {
  const player = pageQuery.get('player');
  if ((player !== null && player !== 'hls') || pageQuery.get('early') === '0' || !status) return null;
  const known = JSON.parse(status) as { status: string; playable: boolean };
  if (!known.playable || (known.status !== 'live' && known.status !== 'ended')) return null;
  const query = new URLSearchParams({ sid });
  const token = pageQuery.get('token');
  if (token) query.set('token', token);
  return `/live/${encodeURIComponent(id)}/master.m3u8?${query.toString()}`;
}

export async function watchPage(c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  if (!isStreamId(id)) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (!c.env.ASSETS) throw new EdgeliveError('internal', 'no ASSETS binding: the watch page is served from wrangler [assets]');
  const [asset, status] = await Promise.all([c.env.ASSETS.fetch(new Request(new URL(WATCH_PAGE_ASSET, c.req.url))), statusForPage(c, id)]);
  if (!asset.ok) throw new EdgeliveError('internal', `watch page asset answered ${asset.status}`);
  const html = await asset.text();
  for (const tag of [SESSION_META, STATUS_META, PRELOAD_ANCHOR]) if (!html.includes(tag)) throw new EdgeliveError('internal', `watch page asset lacks ${tag}`);
  const sid = await mintSignedSession(c.var.settings.originSecret);
  // The page now names one viewer's session: no shared cache may hand it to another viewer.
  let page = html.replace(SESSION_META, `<meta name="edgelive-sid" content="${sid}">`).replace(STATUS_META, `<meta name="edgelive-status" content="${attribute(status)}">`);
  const pageQuery = new URL(c.req.url).searchParams;
  const master = preloadedMasterUrl(id, sid, pageQuery, status);
  if (master !== null) {
    const paths = await startPreloads(c, id, master, sid, pageQuery.get('token')).catch((err: unknown) => {
      console.warn(`watch page of ${id}: start preloads beyond the master left out:`, err);
      return [master];
    });
    // as="fetch" with crossorigin: the mode and credentials of the page's own fetch(), which takes each over.
    const links = paths.map((path) => `<link rel="preload" href="${attribute(path)}" as="fetch" crossorigin="anonymous">\n`).join('');
    page = page.replace(PRELOAD_ANCHOR, `${links}${PRELOAD_ANCHOR}`);
  }
  return new Response(page, {
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'private, no-store' },
  });
}
