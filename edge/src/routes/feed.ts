import { Hono } from 'hono';
import * as z from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { verifyFeedToken } from '../../../shared/src/signing/feed-token.ts';
import type { AppEnv } from '../app-env.ts';
import { checkAdminBearer, requireAdminToken } from '../middleware/admin-auth.ts';
import type { Settings } from '../settings.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { edgeShardName, requestLocation } from '../fanout/shard-names.ts';
import { shardStub } from '../fanout/shard-stub.ts';

/** Query of the feed upgrade: a feed token for browsers, and the last event seq seen on reconnect. */
const feedQuerySchema = z.object({
  token: z.string().max(200).optional(),
  since: z.coerce.number().int().min(0).optional(),
});

/** Who may open a stream's feed: the admin bearer token, or a feed token for this stream. */
async function feedAuth(settings: Settings, streamId: string, authorization: string | undefined, token: string | undefined): Promise<'admin' | 'token'> {
  if (authorization !== undefined) {
    await checkAdminBearer(settings, authorization);
    return 'admin';
  }
  if (token === undefined) throw new EdgeliveError('unauthorized', 'missing bearer token or feed token');
  // Feed tokens are signed with the admin token: rotating it revokes every feed token.
  const verdict = await verifyFeedToken(requireAdminToken(settings), streamId, token, Math.floor(Date.now() / 1000));
  if (verdict === 'expired') throw new EdgeliveError('unauthorized', 'feed token expired');
  if (verdict !== 'ok') throw new EdgeliveError('unauthorized', 'feed token invalid');
  return 'token';
}

/**
 * The live analytics feed: `GET /v1/streams/:id/events` with `Upgrade: websocket` is checked here
 * and forwarded to the stream's StreamDO, which holds the hibernatable socket (or, while the stream's
 * fan-out tier is engaged, to this location's edge shard, which relays the StreamDO's feed). Without the upgrade
 * the request falls through to the management API's REST event list.
 */
export const feedRoutes = new Hono<AppEnv>();

feedRoutes.use('/:id/events', async (c, next) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
  const id = c.req.param('id');
  const stub = streamStub(c.env, id);
  const query = feedQuerySchema.parse(c.req.query());
  const auth = await feedAuth(c.var.settings, id, c.req.header('authorization'), query.token);
  const headers = new Headers(c.req.raw.headers);
  headers.set('x-edgelive-feed-auth', auth);
  // Sockets are capped per token (a leaked token must not open thousands): the StreamDO counts them by this id.
  if (auth === 'token' && query.token !== undefined) headers.set('x-edgelive-feed-token-id', query.token.slice(-16));
  else headers.delete('x-edgelive-feed-token-id');
  const url = new URL(c.req.url);
  url.search = query.since === undefined ? '' : `?since=${query.since}`;
  // A stream served through the fan-out tier carries its feed consumers at the edge shards too, so
  // their number is not held to one object's socket limit (one StreamDO call per connection).
  if ((await stub.feedRoute()).viaShard) {
    const shard = edgeShardName(id, requestLocation(c));
    headers.set('x-edgelive-shard', shard);
    return shardStub(c.env, shard).fetch(new Request(url, { headers }));
  }
  return stub.fetch(new Request(url, { headers }));
});
