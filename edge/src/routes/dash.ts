/** DASH playback: the MPD over the same CMAF segments as HLS, and the clock its UTCTiming names. */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { cachedPlaylist, countedCall } from '../playback/cached-playlist.ts';
import { carryTokenInMpd } from '../playback/carry-token.ts';
import { requireTokenIfSigned, verifiedPlaybackToken } from '../playback/playback-access.ts';
import { MPD_CONTENT_TYPE, renderDash } from '../playback/render-dash.ts';
import { unwrap } from '../stream-do/do-result.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { edgeStats } from '../viewers/edge-stats.ts';

/** Where the edge answers the time: `urn:mpeg:dash:utc:http-iso:2014`. */
export const TIME_PATH = '/time';

function edgeBase(c: Context<AppEnv>): string {
  return c.var.settings.publicBaseUrl || new URL(c.req.url).origin;
}

/** `GET /live/:id/manifest.mpd`: cached and coalesced like the HLS playlists (one StreamDO call per URL per cache lifetime). */
export async function dashManifest(c: Context<AppEnv>): Promise<Response> {
  const id = c.req.param('id') ?? '';
  const settings = c.var.settings;
  const token = await verifiedPlaybackToken(c, id);
  const stub = streamStub(c.env, id);
  edgeStats.playlistRequests++;
  const rendered = await cachedPlaylist(c, async () =>
    renderDash(unwrap(await countedCall(stub.dashManifest(settings.playlistWindowSegments))), {
      now: Date.now(),
      endedRetentionSeconds: settings.endedRetentionSeconds,
      streamId: id,
      timeUrl: `${edgeBase(c)}${TIME_PATH}`,
    }),
  );
  requireTokenIfSigned(rendered.playbackPolicy, token, id);
  // With a token the MPD names it in every segment URL: this viewer's alone, never in a shared cache.
  const body = token === null ? rendered.body : carryTokenInMpd(rendered.body, token);
  return new Response(body, { headers: { 'Content-Type': MPD_CONTENT_TYPE, 'Cache-Control': `${token === null ? 'public' : 'private'}, max-age=${rendered.maxAge}` } });
}

/** `GET /time`: the edge's clock as ISO 8601 with milliseconds, never cached, so players measure their own clock's offset. */
export function timeResponse(): Response {
  return new Response(new Date().toISOString(), {
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' },
  });
}
