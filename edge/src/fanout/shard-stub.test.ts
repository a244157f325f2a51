import { describe, expect, it } from 'vitest';
import type { Env } from '../env.ts';
import { shardStub } from './shard-stub.ts';
import { edgeShardName, relayShardName } from './shard-names.ts';

/** A namespace that hands out its own label with the name asked for, so a test sees which one a stub came from. */
const namespace = (label: string) =>
  ({
    idFromName: (name: string) => ({ name }),
    get: (id: { name: string }) => ({ from: label, name: id.name }),
  }) as unknown as DurableObjectNamespace;

const env = (withRelays: boolean) => ({ STREAM_SHARD: namespace('shards'), ...(withRelays ? { RELAY_SHARD: namespace('relays') } : {}) }) as unknown as Env;

describe('shardStub', () => {
  it('takes every shard from STREAM_SHARD when RELAY_SHARD is not bound (a deployment)', () => {
    expect(shardStub(env(false), relayShardName('abc', 3))).toEqual({ from: 'shards', name: 'r:abc:3' });
    expect(shardStub(env(false), edgeShardName('abc', 'AMS'))).toEqual({ from: 'shards', name: 'e:abc:AMS' });
  });

  it('takes the relays from RELAY_SHARD when it is bound, and the edge shards still from STREAM_SHARD', () => {
    expect(shardStub(env(true), relayShardName('abc', 3))).toEqual({ from: 'relays', name: 'r:abc:3' });
    expect(shardStub(env(true), edgeShardName('abc', 'r1'))).toEqual({ from: 'shards', name: 'e:abc:r1' });
  });
});
