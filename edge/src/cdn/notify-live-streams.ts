/** Writes a CDN health change into the event log of every live stream. */
import { MAX_CONNECTIONS, inBatches } from '../http/in-batches.ts';
import type { Env } from '../env.ts';
import { registryStub } from '../stream-registry/stream-registry.ts';
import { streamStub } from '../stream-do/stream-stub.ts';

/** A health change as stream events carry it (`cdn_health`). */
export interface CdnHealthEvent {
  cdn: string;
  state: 'up' | 'down';
  /** What tipped it: active probes or a burst of player error beacons. */
  reason: 'probe' | 'player_errors';
  /** The last failure seen (`status 503`, `timeout`), null when it came up. */
  error: string | null;
}

/** Pages through the registry's live streams and records `events` on each; returns how many streams were told. */
export async function notifyLiveStreams(env: Env, events: readonly CdnHealthEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const registry = registryStub(env);
  let cursor: string | undefined;
  let told = 0;
  // A bound on pages keeps one alarm short even with very many live streams (100 per page).
  for (let page = 0; page < 50; page++) {
    const listed = await registry.list({ status: 'live', limit: 100, cursor });
    if (!listed.ok) throw new Error(`registry listing failed: ${listed.message}`);
    await inBatches(listed.value.streams, MAX_CONNECTIONS, async (s) => {
      const stub = streamStub(env, s.id);
      for (const e of events) await stub.recordEvent('cdn_health', { ...e });
    });
    told += listed.value.streams.length;
    if (!listed.value.nextCursor) break;
    cursor = listed.value.nextCursor;
  }
  return told;
}
