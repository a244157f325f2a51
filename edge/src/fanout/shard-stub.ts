import type { Env } from '../env.ts';
import type { StreamShard } from './stream-shard.ts';

/**
 * The StreamShard named `name` (shard-names.ts makes the names). A relay shard (`r:…`) comes from
 * RELAY_SHARD when that is bound (the scale simulation's second workerd), every other from STREAM_SHARD.
 */
export function shardStub(env: Env, name: string): DurableObjectStub<StreamShard> {
  const namespace = (name.startsWith('r:') && env.RELAY_SHARD) || env.STREAM_SHARD;
  return namespace.get(namespace.idFromName(name));
}
