/** `GET /watch/:id`: the watch page, a static asset (wrangler `[assets]`); the page reads the id from its own URL. */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { AppEnv } from '../app-env.ts';

/** The page's path inside the assets directory (edge/public). */
export const WATCH_PAGE_ASSET = '/watch/index.html';

export async function watchPage(c: Context<AppEnv>): Promise<Response> {
  if (!isStreamId(c.req.param('id') ?? '')) throw new EdgeliveError('stream_not_found', 'stream not found');
  if (!c.env.ASSETS) throw new EdgeliveError('internal', 'no ASSETS binding: the watch page is served from wrangler [assets]');
  const asset = await c.env.ASSETS.fetch(new Request(new URL(WATCH_PAGE_ASSET, c.req.url)));
  if (!asset.ok) throw new EdgeliveError('internal', `watch page asset answered ${asset.status}`);
  return new Response(asset.body, { headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'public, max-age=60' } });
}
