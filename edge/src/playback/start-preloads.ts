/**
 * What the watch page's head preloads for hls.js, so the start-up's first requests travel while the
 * page loads its scripts instead of one after another once the player runs: this viewer's master
 * playlist, and (when the variants are on this edge, not on CDN hosts) the media playlist and init
 * segment hls.js asks for first. hls.js starts with its lowest level (sorted by height, then
 * bandwidth): its bandwidth test with several levels, its only level otherwise. Each URL is exactly
 * the one the player will ask for (session and token carried as the edge writes them); a guess that
 * misses costs one unused request, nothing else. The media playlist is a few hundred ms old when
 * hls.js reads it; the page tells hls.js when it came, so hls.js's first blocking reload asks for
 * the part that should exist by then (its CDN tune-in).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { addSessionId } from '../viewers/session-id.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { carryTokenInPlaylist } from './carry-token.ts';
import { masterData, mediaPlaylistData } from './playlist-sources.ts';
import { renderMaster, renderMedia } from './render-playlists.ts';

/** The variant hls.js starts with: the lowest RESOLUTION height, then the lowest BANDWIDTH; null when the master lists none. */
export function startVariantUri(master: string): string | null {
  const lines = master.split('\n');
  let best: { height: number; bandwidth: number; uri: string } | null = null;
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!;
    if (!line.startsWith('#EXT-X-STREAM-INF:')) continue;
    const uri = lines[i + 1]!.trim();
    if (!uri || uri.startsWith('#')) continue;
    const height = Number(/RESOLUTION=\d+x(\d+)/.exec(line)?.[1] ?? 0);
    const bandwidth = Number(/[:,]BANDWIDTH=(\d+)/.exec(line)?.[1] ?? 0);
    if (!best || height < best.height || (height === best.height && bandwidth < best.bandwidth)) best = { height, bandwidth, uri };
  }
  return best?.uri ?? null;
}

/** The media playlist's init segment URI (EXT-X-MAP), or null. */
export function initSegmentUri(media: string): string | null {
  return /^#EXT-X-MAP:.*URI="([^"]+)"/m.exec(media)?.[1] ?? null;
}

/** `uri` resolved against `base` (a path with query), as a same-origin path with query; null when it leaves the origin. */
function resolvePath(uri: string, base: string): string | null {
  const origin = 'https://edge.invalid';
  const url = new URL(uri, new URL(base, origin));
  return url.origin === origin ? `${url.pathname}${url.search}` : null;
}

/**
 * The paths to preload for a viewer whose page will start hls.js at once: the master (`masterPath`,
 * as the page builds it) and, when this edge serves the variants itself, the start variant's media
 * playlist and its init segment, read from the master and media playlist rendered from the same
 * data the routes answer with.
 */
export async function startPreloads(c: Context<AppEnv>, id: string, masterPath: string, sid: string, token: string | null): Promise<string[]> {
  const settings = c.var.settings;
  if (settings.cdns.length > 0) return [masterPath];
  const stub = streamStub(c.env, id);
  const ctx = { now: Date.now(), endedRetentionSeconds: settings.endedRetentionSeconds, streamId: id };
  const carry = (body: string) => (token === null ? body : carryTokenInPlaylist(body, token));
  const master = carry(addSessionId(renderMaster(await masterData(c, stub, id), ctx).body, sid));
  const variant = startVariantUri(master);
  const mediaPath = variant === null ? null : resolvePath(variant, masterPath);
  const rendition = mediaPath === null ? null : /^\/live\/[^/]+\/([^/]+)\/index\.m3u8/.exec(mediaPath)?.[1];
  if (mediaPath === null || !rendition) return [masterPath];
  const media = carry(renderMedia(await mediaPlaylistData(c, stub, id, rendition, settings.playlistWindowSegments, undefined), { ...ctx, rendition }).body);
  const init = initSegmentUri(media);
  const initPath = init === null ? null : resolvePath(init, mediaPath);
  return initPath === null ? [masterPath, mediaPath] : [masterPath, mediaPath, initPath];
}
