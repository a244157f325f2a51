/**
 * `/__sim` (development only, admin): what the scale simulation (`npm run sim:scale`) drives the
 * real edge code with. It plays many isolates in many locations inside one workerd: each simulated
 * isolate has its own IsolateScope (its pushed copies, viewer batches) and location (its edge shard).
 * Viewer polls arrive in bulk — one request carries every simulated isolate's polls of a round — and
 * go through the same aggregator and flush path as a real poll. Absent outside development: the
 * router answers 404 there.
 */
import { Hono } from 'hono';
import * as z from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { isolateScopeNamed } from '../fanout/isolate-scope.ts';
import { edgeShardName, relayShardName } from '../fanout/shard-names.ts';
import { parseFanoutSettings } from '../fanout/fanout-settings.ts';
import { takeWakes } from '../fanout/wake-times.ts';
import { shardStub } from '../fanout/shard-stub.ts';
import { parseJsonBody } from '../http/parse-json-body.ts';
import { adminAuth } from '../middleware/admin-auth.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { flushViewers } from '../viewers/isolate-viewers.ts';

export const simulationRoutes = new Hono<AppEnv>();

simulationRoutes.use('*', async (c, next) => {
  if (c.var.settings.environment !== 'development') throw new EdgeliveError('not_found', 'no such route');
  await next();
});
simulationRoutes.use('*', adminAuth);

/** Polls recorded between two yields of a round (a few ms of this machine's time). */
const YIELD_EVERY_POLLS = 5000;

const name = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);
const pollsSchema = z.strictObject({
  streamId: z.string().min(1),
  renditions: z.array(name).min(1),
  isolates: z.array(
    z.strictObject({
      isolate: name,
      location: name,
      /** Session ids `${prefix}${from} … ${prefix}${from + count - 1}` poll now. */
      prefix: z.string().regex(/^[A-Za-z0-9_-]{0,24}$/),
      from: z.number().int().min(0),
      count: z.number().int().min(0).max(1_000_000),
    }),
  ),
});

/**
 * One round of polls: every listed isolate records its sessions' polls and flushes them (to the
 * StreamDO or its edge shard) if its last flush was a second ago or more. The round yields after
 * every YIELD_EVERY_POLLS polls or so (whole isolates), so pushed states and held reloads are
 * served between them as between a real isolate's requests (a round of 100,000 polls recorded
 * without a break held the thread for a few hundred ms, which no real isolate does; yielding after
 * every isolate made a round of 400 isolates take 5 s).
 */
simulationRoutes.post('/polls', async (c) => {
  const body = pollsSchema.parse(parseJsonBody(new Uint8Array(await c.req.arrayBuffer())));
  const now = Date.now();
  let flushed = 0;
  let sinceYield = 0;
  // An isolate's blocks of a round (its own viewers and the movers passing through) are one burst: one batch.
  const byIsolate = new Map<string, (typeof body.isolates)[number][]>();
  for (const i of body.isolates) {
    const blocks = byIsolate.get(i.isolate);
    if (blocks) blocks.push(i);
    else byIsolate.set(i.isolate, [i]);
  }
  for (const [isolate, blocks] of byIsolate) {
    const scope = isolateScopeNamed(isolate);
    for (const i of blocks) for (let n = i.from; n < i.from + i.count; n++) scope.viewers.notePoll(body.streamId, `${i.prefix}${n}`, body.renditions[n % body.renditions.length]!, now);
    const batch = scope.viewers.takeDue(body.streamId, now);
    if (batch) {
      flushViewers(c, body.streamId, batch, scope, blocks[0]!.location);
      flushed++;
    }
    for (const i of blocks) sinceYield += i.count;
    if (sinceYield >= YIELD_EVERY_POLLS) {
      sinceYield = 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return c.json({ flushed });
});

/** Calls the stream's StreamDO and shards answered, for the locations listed (`?locations=a,b`), and the wakes since the last read. */
simulationRoutes.get('/stats/:id', async (c) => {
  const id = c.req.param('id');
  const locations = (c.req.query('locations') ?? '').split(',').filter((l) => name.safeParse(l).success);
  const shard = (n: string) => shardStub(c.env, n);
  const relays = parseFanoutSettings(c.env).relays;
  const [stream, relayStats, edgeShardStats] = await Promise.all([
    streamStub(c.env, id).viewerCalls(),
    Promise.all(Array.from({ length: relays }, (_, k) => shard(relayShardName(id, k)).stats())),
    Promise.all(locations.map((l) => shard(edgeShardName(id, l)).stats())),
  ]);
  // Held reloads woken through the tier, and states delivered to isolates, since the last read: ms from the edge shard hearing the state.
  return c.json({ stream, relays: relayStats, edges: edgeShardStats, ...takeWakes() });
});

/** Only the wakes and deliveries since the last read (the second workerd of `sim:scale`, whose isolates are the sampled ones). */
simulationRoutes.get('/wakes', (c) => c.json({ ...takeWakes(), isolateCalls: { shard: edgeStats.shardCalls, streamDo: edgeStats.doCalls } }));
