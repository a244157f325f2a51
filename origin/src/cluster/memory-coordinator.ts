import type { AcquireOptions, ClusterNode, Coordinator, LeaseResult, StreamLease } from './coordinator.ts';

/** The coordinator of a single node without Redis: the same rules, held in this process. */
export class MemoryCoordinator implements Coordinator {
  readonly #now: () => number;
  readonly #nodes = new Map<string, { node: ClusterNode; expiresAt: number }>();
  readonly #leases = new Map<string, StreamLease>();

  /** `now` defaults to Date.now; the shared suite passes a virtual clock. */
  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  async start(): Promise<void> {}

  async close(_reason: string): Promise<void> {}

  async heartbeat(node: ClusterNode, ttlMs: number): Promise<void> {
    this.#nodes.set(node.nodeId, { node: { ...node }, expiresAt: this.#now() + ttlMs });
  }

  async leave(nodeId: string): Promise<void> {
    this.#nodes.delete(nodeId);
  }

  async nodes(): Promise<ClusterNode[]> {
    const now = this.#now();
    return [...this.#nodes.values()].filter((n) => n.expiresAt > now).map((n) => ({ ...n.node }));
  }

  async acquire(streamId: string, nodeId: string, opts: AcquireOptions): Promise<LeaseResult> {
    const now = this.#now();
    const current = this.#leases.get(streamId);
    const held = current && current.nodeId !== '' && current.expiresAt > now;
    if (held && current.nodeId !== nodeId) {
      const t = opts.takeoverFrom;
      if (!t || t.nodeId !== current.nodeId || t.epoch !== current.epoch) {
        return { ok: false, code: 'lease_held', message: `stream ${streamId} is owned by node ${current.nodeId} (epoch ${current.epoch})`, holder: { ...current } };
      }
    }
    const active = [...this.#leases.values()].filter((l) => l.streamId !== streamId && l.nodeId !== '' && l.expiresAt > now);
    if (active.filter((l) => l.nodeId === nodeId).length >= opts.nodeCapacity) {
      return { ok: false, code: 'node_full', message: `node ${nodeId} is at its capacity of ${opts.nodeCapacity} streams` };
    }
    if (active.length >= opts.clusterCapacity) {
      return { ok: false, code: 'cluster_full', message: `the cluster is at its capacity of ${opts.clusterCapacity} streams` };
    }
    const lease: StreamLease = { streamId, nodeId, epoch: current?.epoch ?? 0, expiresAt: now + opts.ttlMs };
    this.#leases.set(streamId, lease);
    return { ok: true, lease: { ...lease }, previous: current ? { ...current } : undefined };
  }

  async renew(streamId: string, nodeId: string, epoch: number, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const current = this.#leases.get(streamId);
    if (current && current.nodeId !== nodeId && current.nodeId !== '' && current.expiresAt > now) return false;
    if (current && current.epoch > epoch) return false;
    this.#leases.set(streamId, { streamId, nodeId, epoch, expiresAt: now + ttlMs });
    return true;
  }

  async release(streamId: string, nodeId: string): Promise<void> {
    const current = this.#leases.get(streamId);
    if (current?.nodeId === nodeId) this.#leases.set(streamId, { ...current, nodeId: '', expiresAt: 0 });
  }

  async lease(streamId: string): Promise<StreamLease | undefined> {
    const l = this.#leases.get(streamId);
    return l ? { ...l } : undefined;
  }
}
