import type { Env } from '../env.ts';
import type { StreamShard } from './stream-shard.ts';

/** The StreamShard named `name` (shard-names.ts makes the names). */
export function shardStub(env: Env, name: string): DurableObjectStub<StreamShard> {
  return env.STREAM_SHARD.get(env.STREAM_SHARD.idFromName(name));
}
