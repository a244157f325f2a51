/**
 * Where the edge's playlists get their data: this isolate's pushed copy of the stream
 * (pushed-playlists.ts) when it can answer, else this location's edge shard (a DVR stream whose
 * fan-out tier is engaged), else the StreamDO itself.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { isolateScope } from '../fanout/isolate-scope.ts';
import { edgeShardName, requestLocation } from '../fanout/shard-names.ts';
import { shardStub } from '../fanout/shard-stub.ts';
import { unwrap } from '../stream-do/do-result.ts';
import type { BlockingRequest } from '../stream-do/low-latency-playlist.ts';
import type { MasterPlaylistData, MediaPlaylistData } from '../stream-do/playlist-data.ts';
import type { StreamDO } from '../stream-do/stream-do.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { countedCall } from './cached-playlist.ts';
import type { OpenSubscription } from './pushed-playlists.ts';

/**
 * How this isolate subscribes to a stream's push: from the StreamDO, or through this location's edge
 * shard once the tier is engaged, as the copy's last state says or, when it had none, this isolate's
 * last flush answer (a DVR stream is never pushed: its isolates asking the StreamDO whether it is,
 * every 10 s, were heard there beside the relays that count them, so an engaged DVR stream seemed
 * served from twice its isolates and never disengaged).
 */
function subscriptionOpener(c: Context<AppEnv>, stub: DurableObjectStub<StreamDO>, id: string, windowSegments: number): OpenSubscription {
  const scope = isolateScope(c);
  return async (seconds, pushedSays) => {
    const viaShard = pushedSays ?? scope.throughShard(id);
    if (!viaShard) return { stream: await stub.subscribePlaylists(windowSegments, seconds, scope.id), viaShard };
    const shard = edgeShardName(id, requestLocation(c));
    return { stream: await shardStub(c.env, shard).subscribePlaylists(shard, windowSegments, seconds), viaShard };
  };
}

/** The master playlist's data: from this isolate's pushed copy when it can answer, else from the StreamDO. */
export async function masterData(c: Context<AppEnv>, stub: DurableObjectStub<StreamDO>, id: string): Promise<MasterPlaylistData> {
  const pushed = await isolateScope(c).copies.of(id).masterPlaylist(c, subscriptionOpener(c, stub, id, c.var.settings.playlistWindowSegments));
  return pushed ?? unwrap(await countedCall(stub.masterPlaylist()));
}

/** A media playlist's data: from this isolate's pushed copy when it can answer, else from the StreamDO. */
export async function mediaPlaylistData(
  c: Context<AppEnv>,
  stub: DurableObjectStub<StreamDO>,
  id: string,
  rendition: string,
  windowSegments: number,
  block: BlockingRequest | undefined,
): Promise<MediaPlaylistData> {
  const scope = isolateScope(c);
  const pushed = await scope.copies.of(id).mediaPlaylist(c, id, rendition, block, subscriptionOpener(c, stub, id, windowSegments));
  if (pushed) return pushed;
  if (scope.throughShard(id)) {
    // Not pushed (a DVR window) while the stream's tier is engaged: through this location's edge shard, which shares each render.
    edgeStats.shardCalls++;
    const shard = edgeShardName(id, requestLocation(c));
    return unwrap(await shardStub(c.env, shard).mediaPlaylist(shard, rendition, windowSegments, block));
  }
  return unwrap(await countedCall(stub.mediaPlaylist(rendition, windowSegments, block)));
}
