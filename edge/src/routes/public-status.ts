/**
 * `GET /live/:id/status.json`: what a watch page may know about a stream, nothing secret — its
 * status and whether it has anything to play. Cached and coalesced like a playlist, and read like
 * the master (this isolate's pushed copy, else the StreamDO), so it costs no more than one.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { cachedPlaylist } from '../playback/cached-playlist.ts';
import { masterData } from '../playback/playlist-sources.ts';
import { MASTER_MAX_AGE } from '../playback/render-playlists.ts';
import { streamStub } from '../stream-do/stream-stub.ts';

/** The public status of a stream. */
export interface PublicStatus {
  status: string;
  /** At least one rendition has a segment: the playlists answer. */
  playable: boolean;
}

/** The stream's public status as JSON text, through the playlist cache (throws `stream_not_found` / `stream_gone`). */
export async function publicStatusJson(c: Context<AppEnv>, id: string): Promise<{ body: string; maxAge: number }> {
  const stub = streamStub(c.env, id);
  return cachedPlaylist(c, async () => {
    const data = await masterData(c, stub, id);
    const body: PublicStatus = { status: data.status, playable: data.renditions.some((r) => r.segments > 0) };
    return { body: JSON.stringify(body), maxAge: MASTER_MAX_AGE };
  });
}

export async function publicStatus(c: Context<AppEnv>): Promise<Response> {
  const rendered = await publicStatusJson(c, c.req.param('id') ?? '');
  return new Response(rendered.body, { headers: { 'Content-Type': 'application/json', 'Cache-Control': `public, max-age=${rendered.maxAge}` } });
}
