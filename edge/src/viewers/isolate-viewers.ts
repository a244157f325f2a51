import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../http/wait-until.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { BeaconLimiter } from './beacon-limiter.ts';
import { edgeStats } from './edge-stats.ts';
import { ViewerAggregator } from './viewer-aggregator.ts';
import type { ViewerBatch } from './viewer-batch.ts';

/** This isolate's viewer batches (one per stream), shared by every request it serves. */
export const isolateViewers = new ViewerAggregator();
/** This isolate's beacon rate limit. */
export const isolateBeaconLimiter = new BeaconLimiter();

/** Sends a stream's batch to its StreamDO after the response (`ctx.waitUntil`). */
export function flushViewers(c: Context<AppEnv>, streamId: string, batch: ViewerBatch | null): void {
  if (!batch) return;
  edgeStats.doCalls++;
  const work = streamStub(c.env, streamId)
    .recordViewers(batch)
    .then((r) => {
      // Beacons for a stream that does not exist are dropped here rather than checked per request.
      if (!r.ok && r.code !== 'stream_not_found') console.warn(`viewer flush for ${streamId} refused: ${r.code} ${r.message}`);
    });
  waitUntil(c, work, 'viewer flush');
}
