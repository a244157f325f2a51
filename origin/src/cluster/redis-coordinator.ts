import { Redis } from 'ioredis';
import type { AcquireOptions, ClusterNode, Coordinator, LeaseResult, StreamLease } from './coordinator.ts';

/** How long a lease record (and the epoch it remembers) outlives its last renewal. */
const LEASE_RECORD_TTL_MS = 24 * 60 * 60 * 1000;

// Leases are checked and written in Lua so that read-check-write is atomic, and with Redis's own
// clock (TIME) so that the nodes' clock skew does not move expiries. Keys are built inside the
// scripts from the prefix: fine for one Redis (or a primary/replica pair), not for Redis Cluster.
const LUA_HEAD = `
local prefix, streamId, nodeId = ARGV[1], ARGV[2], ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leaseKey = prefix .. 'lease:' .. streamId
local allKey = prefix .. 'leases'
local cur = redis.call('HMGET', leaseKey, 'node', 'epoch', 'exp')
local curNode = cur[1] or ''
local curEpoch = tonumber(cur[2] or '0')
local curExp = tonumber(cur[3] or '0')
`;

const ACQUIRE = `${LUA_HEAD}
local ttl, nodeCap, clusterCap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tNode, tEpoch = ARGV[7], tonumber(ARGV[8])
if curNode ~= '' and curExp > now and curNode ~= nodeId then
  if not (tNode == curNode and tEpoch == curEpoch) then
    return {'lease_held', curNode, tostring(curEpoch), tostring(curExp)}
  end
end
local nodeKey = prefix .. 'node-leases:' .. nodeId
redis.call('ZREMRANGEBYSCORE', allKey, '-inf', now)
redis.call('ZREMRANGEBYSCORE', nodeKey, '-inf', now)
local mine = redis.call('ZCARD', nodeKey)
if redis.call('ZSCORE', nodeKey, streamId) then mine = mine - 1 end
if mine >= nodeCap then return {'node_full'} end
local all = redis.call('ZCARD', allKey)
if redis.call('ZSCORE', allKey, streamId) then all = all - 1 end
if all >= clusterCap then return {'cluster_full'} end
if curNode ~= '' and curNode ~= nodeId then redis.call('ZREM', prefix .. 'node-leases:' .. curNode, streamId) end
local exp = now + ttl
redis.call('HSET', leaseKey, 'node', nodeId, 'epoch', curEpoch, 'exp', exp)
redis.call('PEXPIRE', leaseKey, ${LEASE_RECORD_TTL_MS})
redis.call('ZADD', allKey, exp, streamId)
redis.call('ZADD', nodeKey, exp, streamId)
local existed = '0'
if cur[2] then existed = '1' end
return {'ok', curNode, tostring(curEpoch), tostring(curExp), tostring(exp), existed}
`;

const RENEW = `${LUA_HEAD}
local epoch, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
if curNode ~= '' and curNode ~= nodeId and curExp > now then return 0 end
if curEpoch > epoch then return 0 end
if curNode ~= '' and curNode ~= nodeId then redis.call('ZREM', prefix .. 'node-leases:' .. curNode, streamId) end
local exp = now + ttl
redis.call('HSET', leaseKey, 'node', nodeId, 'epoch', epoch, 'exp', exp)
redis.call('PEXPIRE', leaseKey, ${LEASE_RECORD_TTL_MS})
redis.call('ZADD', allKey, exp, streamId)
redis.call('ZADD', prefix .. 'node-leases:' .. nodeId, exp, streamId)
return 1
`;

const RELEASE = `${LUA_HEAD}
if curNode ~= nodeId then return 0 end
redis.call('HSET', leaseKey, 'node', '', 'exp', 0)
redis.call('ZREM', allKey, streamId)
redis.call('ZREM', prefix .. 'node-leases:' .. nodeId, streamId)
return 1
`;

/** Lifecycle of the Redis connection. */
export type RedisCoordinatorState = 'idle' | 'connecting' | 'connected' | 'closed';

/**
 * The cluster's coordinator on Redis: nodes are TTL keys refreshed by heartbeats, leases are
 * hashes changed only by Lua scripts. While Redis is unreachable every call fails at once (no
 * offline queue, so nothing piles up in memory) and the client keeps reconnecting.
 */
export class RedisCoordinator implements Coordinator {
  #state: RedisCoordinatorState = 'idle';
  readonly #redis: Redis;
  readonly #prefix: string;

  /** `onError` hears connection errors (for the node's Redis error counter and logs). */
  constructor(opts: { url: string; prefix?: string; onError?: (err: Error) => void }) {
    this.#prefix = opts.prefix ?? 'edgelive:';
    this.#redis = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      // Keep trying every half second for as long as the node lives: Redis restarts are expected.
      retryStrategy: () => 500,
    });
    this.#redis.on('error', (err: Error) => opts.onError?.(err));
  }

  get state(): RedisCoordinatorState {
    return this.#state;
  }

  async start(): Promise<void> {
    this.#state = 'connecting';
    await this.#redis.connect();
    this.#state = 'connected';
  }

  async close(_reason: string): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#redis.disconnect();
  }

  async heartbeat(node: ClusterNode, ttlMs: number): Promise<void> {
    await this.#redis.multi().set(`${this.#prefix}node:${node.nodeId}`, JSON.stringify(node), 'PX', ttlMs).sadd(`${this.#prefix}nodes`, node.nodeId).exec();
  }

  async leave(nodeId: string): Promise<void> {
    await this.#redis.multi().del(`${this.#prefix}node:${nodeId}`).srem(`${this.#prefix}nodes`, nodeId).exec();
  }

  async nodes(): Promise<ClusterNode[]> {
    const ids = await this.#redis.smembers(`${this.#prefix}nodes`);
    if (ids.length === 0) return [];
    const values = await this.#redis.mget(ids.map((id) => `${this.#prefix}node:${id}`));
    const gone = ids.filter((_, i) => values[i] == null);
    if (gone.length) await this.#redis.srem(`${this.#prefix}nodes`, ...gone);
    return values.filter((v): v is string => v != null).map((v) => JSON.parse(v) as ClusterNode);
  }

  async acquire(streamId: string, nodeId: string, opts: AcquireOptions): Promise<LeaseResult> {
    const t = opts.takeoverFrom;
    const r = (await this.#redis.eval(
      ACQUIRE, 0, this.#prefix, streamId, nodeId, opts.ttlMs, opts.nodeCapacity, opts.clusterCapacity, t?.nodeId ?? '', t?.epoch ?? -1,
    )) as string[];
    const [verdict, curNode = '', curEpoch = '0', curExp = '0', exp = '0', existed = '0'] = r;
    if (verdict === 'lease_held') {
      return {
        ok: false,
        code: 'lease_held',
        message: `stream ${streamId} is owned by node ${curNode} (epoch ${curEpoch})`,
        holder: { streamId, nodeId: curNode, epoch: Number(curEpoch), expiresAt: Number(curExp) },
      };
    }
    if (verdict === 'node_full') return { ok: false, code: 'node_full', message: `node ${nodeId} is at its capacity of ${opts.nodeCapacity} streams` };
    if (verdict === 'cluster_full') return { ok: false, code: 'cluster_full', message: `the cluster is at its capacity of ${opts.clusterCapacity} streams` };
    return {
      ok: true,
      lease: { streamId, nodeId, epoch: Number(curEpoch), expiresAt: Number(exp) },
      previous: existed === '1' ? { streamId, nodeId: curNode, epoch: Number(curEpoch), expiresAt: Number(curExp) } : undefined,
    };
  }

  async renew(streamId: string, nodeId: string, epoch: number, ttlMs: number): Promise<boolean> {
    return (await this.#redis.eval(RENEW, 0, this.#prefix, streamId, nodeId, epoch, ttlMs)) === 1;
  }

  async release(streamId: string, nodeId: string): Promise<void> {
    await this.#redis.eval(RELEASE, 0, this.#prefix, streamId, nodeId);
  }

  async lease(streamId: string): Promise<StreamLease | undefined> {
    const h = await this.#redis.hgetall(`${this.#prefix}lease:${streamId}`);
    if (h.epoch === undefined) return undefined;
    return { streamId, nodeId: h.node ?? '', epoch: Number(h.epoch), expiresAt: Number(h.exp ?? 0) };
  }
}
