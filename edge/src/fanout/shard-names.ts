/**
 * Where a popular stream's fan-out shards are (issue 14). Two kinds, both `StreamShard` objects:
 * - an **edge shard** per stream and location (`e:<stream>:<location>`), placed near it: the
 *   isolates of that location subscribe to its playlist push and flush their viewers to it;
 * - a **relay shard** per stream and relay index (`r:<stream>:<k>`, k < FANOUT_RELAYS): the edge
 *   shards of the locations hashed to k subscribe to it and flush to it; it alone talks to the
 *   StreamDO. So the StreamDO hears from at most FANOUT_RELAYS shards, however many locations.
 * Pure, apart from reading the request's location.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { murmur3 } from '../../../shared/src/hashing/murmur3.ts';

/** A location key: a data center code (`request.cf.colo`), or a harness-chosen name in the scale simulation. */
const LOCATION = /^[A-Za-z0-9_-]{1,32}$/;

/** Header the scale simulation sets (development only) to act as a given location. */
export const SIM_LOCATION_HEADER = 'X-Edgelive-Sim-Location';

/** The location serving this request: the simulation's header in development, else the data center. */
export function requestLocation(c: Context<AppEnv>): string {
  const simulated = c.req.header(SIM_LOCATION_HEADER);
  if (simulated && LOCATION.test(simulated) && c.var.settings.environment === 'development') return simulated;
  const colo = (c.req.raw as Request & { cf?: { colo?: unknown } }).cf?.colo;
  return typeof colo === 'string' && LOCATION.test(colo) ? colo : 'local';
}

/** The edge shard of `streamId` at `location`. */
export function edgeShardName(streamId: string, location: string): string {
  return `e:${streamId}:${location}`;
}

/** The relay index a location's edge shard uses (stable: a location always goes through the same relay). */
export function relayIndex(location: string, relays: number): number {
  return murmur3(location, 0x5eed) % relays;
}

/** The relay shard `k` of `streamId`. */
export function relayShardName(streamId: string, k: number): string {
  return `r:${streamId}:${k}`;
}

/** What a shard's name says: its kind, stream, and location or relay index. */
export type ShardRole = { kind: 'edge'; streamId: string; location: string } | { kind: 'relay'; streamId: string; index: number };

export function shardRole(name: string): ShardRole | null {
  const m = /^([er]):([a-z0-9]+):([A-Za-z0-9_-]{1,32})$/.exec(name);
  if (!m) return null;
  if (m[1] === 'e') return { kind: 'edge', streamId: m[2]!, location: m[3]! };
  const index = Number(m[3]);
  return Number.isInteger(index) && index >= 0 ? { kind: 'relay', streamId: m[2]!, index } : null;
}
