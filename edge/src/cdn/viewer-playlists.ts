/**
 * Per-viewer playback on top of the shared (cached) playlists: CDN pathways and content steering
 * in the master, absolute CDN URLs in media playlists, and the steering manifest. With no CDN
 * configured every function answers the shared playlist unchanged.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { carryTokenInPlaylist } from '../playback/carry-token.ts';
import { playlistResponse, type RenderedPlaylist } from '../playback/playlist-response.ts';
import { rankHealthyCdns } from './cdn-ranking.ts';
import { healthView } from './health-view.ts';
import { rewriteForViewer } from './rewrite-for-viewer.ts';
import { addSessionId, sessionIdOf } from '../viewers/session-id.ts';
import { mintSignedSession } from '../viewers/signed-session.ts';
import { steerMasterPlaylist } from './steer-master-playlist.ts';
import { steeringManifest } from './steering-manifest.ts';

/** Where the steering manifest is served: the edge's public base, else the request's own origin. */
function edgeBase(c: Context<AppEnv>): string {
  return c.var.settings.publicBaseUrl || new URL(c.req.url).origin;
}

/** The key CDN ranking hashes for a session-level choice (master, steering, media in session/stream mode). */
function rankingKey(c: Context<AppEnv>, streamId: string, sid: string | null): string {
  return c.var.settings.cdnHashKey === 'stream' || sid === null ? streamId : sid;
}

/** The steering manifest URL for a session (SERVER-URI and RELOAD-URI). */
function steeringUrl(c: Context<AppEnv>, streamId: string, sid: string): string {
  return `${edgeBase(c)}/live/${streamId}/steering.json?sid=${sid}`;
}

/** The viewer's text with its playback token (when it has one) in every URI; a token makes the answer private. */
function withViewerToken(body: string, maxAge: number, token: string | null, visibility: 'public' | 'private'): Response {
  if (token === null) return playlistResponse({ body, maxAge }, visibility);
  // The token is this viewer's alone: no shared cache (CDN, proxy) may hand the playlist to another.
  return playlistResponse({ body: carryTokenInPlaylist(body, token), maxAge }, 'private');
}

/**
 * The master playlist for this viewer, whose session id (`given`, or one minted for this request)
 * and playback token (if any) ride in every variant URI: with CDNs, one pathway per healthy CDN in
 * the viewer's order plus the steering tag; without, the shared variant list.
 */
export async function viewerMaster(c: Context<AppEnv>, streamId: string, shared: RenderedPlaylist, token: string | null = null): Promise<Response> {
  const settings = c.var.settings;
  const given = sessionIdOf(new URL(c.req.url));
  // Only the edge mints sessions, signed, so the polls that carry one can be counted without a lookup.
  const sid = given ?? (await mintSignedSession(settings.originSecret));
  // A minted session belongs to this viewer alone: a shared cache must not hand it to the next one.
  const visibility = given === null ? 'private' : 'public';
  if (settings.cdns.length === 0) return withViewerToken(addSessionId(shared.body, sid), shared.maxAge, token, visibility);
  const down = await healthView.down(c.env, settings, Date.now());
  const ranked = rankHealthyCdns(rankingKey(c, streamId, sid), settings.cdns, down);
  const body = steerMasterPlaylist(shared.body, {
    pathways: ranked.map((cdn) => ({ id: cdn.id, prefix: `${cdn.baseUrl}/live/${streamId}/` })),
    serverUri: steeringUrl(c, streamId, sid),
    query: `?sid=${sid}`,
  });
  return withViewerToken(body, shared.maxAge, token, visibility);
}

/** A media playlist for this viewer: init and segment URLs absolute on the first-ranked healthy CDN, each with its token (if any). */
export async function viewerMedia(c: Context<AppEnv>, streamId: string, rendition: string, shared: RenderedPlaylist, sid: string | null, token: string | null = null): Promise<Response> {
  const settings = c.var.settings;
  if (settings.cdns.length === 0) return withViewerToken(shared.body, shared.maxAge, token, 'public');
  const down = await healthView.down(c.env, settings, Date.now());
  const body = rewriteForViewer(shared.body, { streamId, rendition, sid, cdns: settings.cdns, down, hashKey: settings.cdnHashKey });
  return withViewerToken(body, shared.maxAge, token, 'public');
}

/** `GET /live/:id/steering.json`: the viewer's CDN priority, unhealthy CDNs removed. */
export async function steeringResponse(c: Context<AppEnv>, streamId: string): Promise<Response> {
  const settings = c.var.settings;
  const url = new URL(c.req.url);
  // _HLS_pathway (the player's current pathway) and _HLS_throughput are accepted; the priority is the
  // viewer's rendezvous ranking, so a player moves only when its CDN goes down.
  const sid = sessionIdOf(url) ?? (await mintSignedSession(settings.originSecret));
  const down = await healthView.down(c.env, settings, Date.now());
  const ranked = rankHealthyCdns(rankingKey(c, streamId, sid), settings.cdns, down);
  const manifest = steeringManifest({ ttlSeconds: settings.cdnProbeIntervalSeconds, reloadUri: steeringUrl(c, streamId, sid), priority: ranked.map((cdn) => cdn.id) });
  return new Response(JSON.stringify(manifest), {
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'private, max-age=1' },
  });
}
