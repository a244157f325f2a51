import type { Logger } from 'pino';
import type { Coordinator } from './coordinator.ts';

/** Why this node may not own a stream now. */
export type OwnershipRefusal = { code: 'conflict' | 'over_capacity'; message: string };

/** What a live stream needs to own its stream id (declared for LiveStream, house rule 5). */
export interface StreamOwnership {
  /**
   * Takes the stream's lease. `takeoverFrom` names a node the caller saw fail (its relay broke).
   * On success, `previousEpoch` is the StreamDO epoch this publish replaces (ask the edge for a
   * takeover of it), if the lease remembers one.
   */
  acquire(streamId: string, takeoverFrom?: string): Promise<{ ok: true; previousEpoch: number | undefined } | ({ ok: false } & OwnershipRefusal)>;
  /** Extends the lease and records `epoch`. False: another node owns it now, stop writing. Throws when the coordinator is unreachable. */
  renew(streamId: string, epoch: number): Promise<boolean>;
  release(streamId: string): Promise<void>;
}

/** Lease timing and limits of one node. */
export interface LeaseSettings {
  nodeId: string;
  leaseTtlMs: number;
  nodeCapacity: number;
  clusterCapacity: number;
}

/**
 * StreamOwnership on a Coordinator. A lease held by another node is waited for up to one lease
 * TTL (its owner may have just died: its lease then runs out) before the publish is refused.
 */
export class LeaseKeeper implements StreamOwnership {
  readonly #coordinator: Coordinator;
  readonly #settings: LeaseSettings;
  readonly #log: Logger;
  readonly #onCoordinatorError: (err: unknown) => void;

  constructor(opts: { coordinator: Coordinator; settings: LeaseSettings; logger: Logger; onCoordinatorError: (err: unknown) => void }) {
    this.#coordinator = opts.coordinator;
    this.#settings = opts.settings;
    this.#log = opts.logger;
    this.#onCoordinatorError = opts.onCoordinatorError;
  }

  async acquire(streamId: string, takeoverFrom?: string): Promise<{ ok: true; previousEpoch: number | undefined } | ({ ok: false } & OwnershipRefusal)> {
    const { nodeId, leaseTtlMs, nodeCapacity, clusterCapacity } = this.#settings;
    const deadline = Date.now() + leaseTtlMs + 500;
    for (;;) {
      let holder;
      try {
        const known = takeoverFrom ? await this.#coordinator.lease(streamId) : undefined;
        const result = await this.#coordinator.acquire(streamId, nodeId, {
          ttlMs: leaseTtlMs,
          nodeCapacity,
          clusterCapacity,
          ...(known && known.nodeId === takeoverFrom ? { takeoverFrom: { nodeId: known.nodeId, epoch: known.epoch } } : {}),
        });
        if (result.ok) {
          const epoch = result.lease.epoch;
          if (result.previous && result.previous.nodeId && result.previous.nodeId !== nodeId) {
            this.#log.info({ streamId, from: result.previous.nodeId, epoch }, 'took the stream lease over');
          }
          return { ok: true, previousEpoch: epoch > 0 ? epoch : undefined };
        }
        if (result.code !== 'lease_held') return { ok: false, code: 'over_capacity', message: result.message };
        holder = result.holder;
      } catch (err) {
        // Without the coordinator this node cannot know who owns the stream; the StreamDO's
        // fencing still keeps one writer, so go ahead as a plain publish.
        this.#onCoordinatorError(err);
        this.#log.warn({ err, streamId }, 'coordinator unreachable; publishing without a lease');
        return { ok: true, previousEpoch: undefined };
      }
      if (Date.now() > deadline) {
        return { ok: false, code: 'conflict', message: `stream ${streamId} is being transcoded by node ${holder?.nodeId ?? 'unknown'}` };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async renew(streamId: string, epoch: number): Promise<boolean> {
    return this.#coordinator.renew(streamId, this.#settings.nodeId, epoch, this.#settings.leaseTtlMs);
  }

  async release(streamId: string): Promise<void> {
    try {
      await this.#coordinator.release(streamId, this.#settings.nodeId);
    } catch (err) {
      this.#onCoordinatorError(err);
      this.#log.warn({ err, streamId }, 'could not release the stream lease; it will expire');
    }
  }
}
