/**
 * What an origin node needs from its cluster: a registry of live nodes and one ownership lease per
 * stream. `MemoryCoordinator` serves a single node with no Redis; `RedisCoordinator` a cluster.
 * Both pass the same suite (coordinator-suite.ts).
 */

/** A node as the registry knows it. */
export interface ClusterNode {
  nodeId: string;
  /** Where other nodes push relayed FLV and read health (`http://host:port`). */
  httpUrl: string;
  rtmpUrl: string;
  pid: number;
  /** Concurrent streams this node transcodes at most. */
  capacity: number;
}

/**
 * Ownership of one stream: the node transcoding it and the epoch the StreamDO issued to it (the
 * fencing token). The record outlives its expiry so the next owner knows which epoch it replaces.
 */
export interface StreamLease {
  streamId: string;
  /** The owner; empty once released. */
  nodeId: string;
  /** Last epoch the StreamDO granted under this lease; 0 before the first grant. */
  epoch: number;
  /** Wall-clock ms (the coordinator's clock) after which the lease is free. */
  expiresAt: number;
}

/** Why a lease was not granted. */
export type LeaseRefusalCode = 'lease_held' | 'node_full' | 'cluster_full';

/** Answer of `acquire`: the lease (with the epoch it replaces) or a coded refusal. */
export type LeaseResult =
  | { ok: true; lease: StreamLease; previous: StreamLease | undefined }
  | { ok: false; code: LeaseRefusalCode; message: string; holder?: StreamLease };

/** Limits and intent of one acquire. */
export interface AcquireOptions {
  ttlMs: number;
  /** Streams `nodeId` may own at once. */
  nodeCapacity: number;
  /** Streams the whole cluster may own at once. */
  clusterCapacity: number;
  /**
   * Take the lease even though it is still held, but only from exactly this owner and epoch
   * (compare-and-swap): the caller saw that owner fail (its relay connection broke).
   */
  takeoverFrom?: { nodeId: string; epoch: number };
}

/** Membership and leases; every call may fail when the backing store is unreachable. */
export interface Coordinator {
  /** Connects (Redis) or does nothing (memory). */
  start(): Promise<void>;
  close(reason: string): Promise<void>;
  /** Registers or refreshes this node for `ttlMs`. */
  heartbeat(node: ClusterNode, ttlMs: number): Promise<void>;
  /** Removes this node from the registry at once (graceful shutdown). */
  leave(nodeId: string): Promise<void>;
  /** Nodes whose registration has not expired. */
  nodes(): Promise<ClusterNode[]>;
  /** Takes the lease of `streamId` for `nodeId` when it is free, already ours, or a matching takeover. */
  acquire(streamId: string, nodeId: string, opts: AcquireOptions): Promise<LeaseResult>;
  /**
   * Extends our lease and records the epoch; re-creates it when it vanished (a Redis restart).
   * False when another node owns it now: stop writing.
   */
  renew(streamId: string, nodeId: string, epoch: number, ttlMs: number): Promise<boolean>;
  /** Frees our lease, keeping its epoch for the next owner. */
  release(streamId: string, nodeId: string): Promise<void>;
  /** The lease record, expired or not; undefined when none was ever taken (or Redis lost it). */
  lease(streamId: string): Promise<StreamLease | undefined>;
}
