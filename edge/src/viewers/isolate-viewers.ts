import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { edgeShardName, requestLocation } from '../fanout/shard-names.ts';
import { shardStub } from '../fanout/shard-stub.ts';
import { waitUntil } from '../http/wait-until.ts';
import { isolateScope } from '../fanout/isolate-scope.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { edgeStats } from './edge-stats.ts';
import type { ViewerBatch } from './viewer-batch.ts';
import { packBatch } from './packed-batch.ts';

/**
 * Sends a stream's batch after the response (`ctx.waitUntil`): to its StreamDO, or, once the
 * stream's fan-out tier is engaged (the pushed playlist state says so), to this location's edge shard.
 */
export function flushViewers(c: Context<AppEnv>, streamId: string, batch: ViewerBatch | null, scope = isolateScope(c), location = requestLocation(c)): void {
  if (!batch) return;
  let work: Promise<unknown>;
  if (scope.throughShard(streamId)) {
    edgeStats.shardCalls++;
    const name = edgeShardName(streamId, location);
    work = shardStub(c.env, name)
      .recordViewers(name, scope.id, 1, packBatch(batch))
      .then((r) => scope.noteFlushAnswer(streamId, r.fanout));
  } else {
    edgeStats.doCalls++;
    work = streamStub(c.env, streamId)
      .recordViewers(packBatch(batch), { source: scope.id, isolates: 1 })
      .then((r) => {
        if (r.ok) scope.noteFlushAnswer(streamId, r.value.fanout);
        // Beacons for a stream that does not exist are dropped here rather than checked per request.
        else if (r.code !== 'stream_not_found') console.warn(`viewer flush for ${streamId} refused: ${r.code} ${r.message}`);
      });
  }
  waitUntil(c, work, 'viewer flush');
}
