import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterNode, Coordinator } from './coordinator.ts';

/** Limits used by most cases: room enough that only the case's own rule refuses. */
const roomy = { ttlMs: 5_000, nodeCapacity: 10, clusterCapacity: 100 };

function node(nodeId: string): ClusterNode {
  return { nodeId, httpUrl: `http://127.0.0.1/${nodeId}`, rtmpUrl: `rtmp://127.0.0.1/${nodeId}`, pid: 1, capacity: 4 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The rules every Coordinator keeps (house rule 5: one suite, every implementation). Expiries use
 * real time with short TTLs so the Redis implementation runs against a real server's clock.
 */
export function coordinatorSuite(name: string, make: () => Promise<Coordinator>): void {
  describe(`Coordinator: ${name}`, () => {
    let c: Coordinator;
    beforeEach(async () => {
      c = await make();
      await c.start();
    });
    afterEach(async () => {
      await c.close('test over');
    });

    it('lists registered nodes until their heartbeat expires or they leave', async () => {
      await c.heartbeat(node('a'), 300);
      await c.heartbeat(node('b'), 5_000);
      await c.heartbeat(node('c'), 5_000);
      expect((await c.nodes()).map((n) => n.nodeId).sort()).toEqual(['a', 'b', 'c']);
      await c.leave('c');
      await sleep(400);
      expect(await c.nodes()).toEqual([node('b')]);
    });

    it('grants a free lease, remembers the epoch, and refuses it to another node while held', async () => {
      const first = await c.acquire('s1', 'a', roomy);
      expect(first).toMatchObject({ ok: true, lease: { streamId: 's1', nodeId: 'a', epoch: 0 }, previous: undefined });
      expect(await c.renew('s1', 'a', 7, 5_000)).toBe(true);
      const second = await c.acquire('s1', 'b', roomy);
      expect(second).toMatchObject({ ok: false, code: 'lease_held', holder: { nodeId: 'a', epoch: 7 } });
      expect(await c.lease('s1')).toMatchObject({ streamId: 's1', nodeId: 'a', epoch: 7 });
      // Re-acquiring our own lease is fine (a restart of our own transcoder).
      expect(await c.acquire('s1', 'a', roomy)).toMatchObject({ ok: true, lease: { nodeId: 'a', epoch: 7 } });
    });

    it('hands an expired lease to the next node with the epoch it replaces', async () => {
      await c.acquire('s1', 'a', { ...roomy, ttlMs: 200 });
      expect(await c.renew('s1', 'a', 3, 200)).toBe(true);
      await sleep(300);
      const next = await c.acquire('s1', 'b', roomy);
      expect(next).toMatchObject({ ok: true, lease: { nodeId: 'b', epoch: 3 }, previous: { nodeId: 'a', epoch: 3 } });
      // The old owner's renewal now fails: it must stop writing.
      expect(await c.renew('s1', 'a', 3, 5_000)).toBe(false);
    });

    it('takes a held lease over only from exactly the owner and epoch named (compare-and-swap)', async () => {
      await c.acquire('s1', 'a', roomy);
      await c.renew('s1', 'a', 4, 5_000);
      expect(await c.acquire('s1', 'b', { ...roomy, takeoverFrom: { nodeId: 'a', epoch: 3 } })).toMatchObject({ ok: false, code: 'lease_held' });
      expect(await c.acquire('s1', 'b', { ...roomy, takeoverFrom: { nodeId: 'x', epoch: 4 } })).toMatchObject({ ok: false, code: 'lease_held' });
      expect(await c.acquire('s1', 'b', { ...roomy, takeoverFrom: { nodeId: 'a', epoch: 4 } })).toMatchObject({ ok: true, lease: { nodeId: 'b', epoch: 4 } });
      // A second taker racing with the same view loses.
      expect(await c.acquire('s1', 'c', { ...roomy, takeoverFrom: { nodeId: 'a', epoch: 4 } })).toMatchObject({ ok: false, code: 'lease_held', holder: { nodeId: 'b' } });
    });

    it('refuses a renewal with an older epoch than the record', async () => {
      await c.acquire('s1', 'a', roomy);
      await c.renew('s1', 'a', 5, 5_000);
      expect(await c.renew('s1', 'a', 4, 5_000)).toBe(false);
    });

    it('frees a released lease at once and keeps its epoch', async () => {
      await c.acquire('s1', 'a', roomy);
      await c.renew('s1', 'a', 2, 5_000);
      await c.release('s1', 'b'); // not the owner: no effect
      expect(await c.acquire('s1', 'b', roomy)).toMatchObject({ ok: false, code: 'lease_held' });
      await c.release('s1', 'a');
      expect(await c.acquire('s1', 'b', roomy)).toMatchObject({ ok: true, lease: { nodeId: 'b', epoch: 2 } });
    });

    it('re-creates a vanished lease on renewal (the store lost its data)', async () => {
      expect(await c.lease('never')).toBeUndefined();
      expect(await c.renew('never', 'a', 9, 5_000)).toBe(true);
      expect(await c.lease('never')).toMatchObject({ nodeId: 'a', epoch: 9 });
    });

    it('refuses over the node capacity and over the cluster capacity, counting only live leases', async () => {
      const limits = { ttlMs: 5_000, nodeCapacity: 2, clusterCapacity: 3 };
      expect((await c.acquire('s1', 'a', limits)).ok).toBe(true);
      expect((await c.acquire('s2', 'a', limits)).ok).toBe(true);
      expect(await c.acquire('s3', 'a', limits)).toMatchObject({ ok: false, code: 'node_full' });
      expect((await c.acquire('s1', 'a', limits)).ok).toBe(true); // already ours: not counted twice
      expect((await c.acquire('s3', 'b', limits)).ok).toBe(true);
      expect(await c.acquire('s4', 'b', limits)).toMatchObject({ ok: false, code: 'cluster_full', message: 'the cluster is at its capacity of 3 streams' });
      await c.release('s3', 'b');
      expect((await c.acquire('s4', 'b', limits)).ok).toBe(true);
      await c.acquire('s5', 'c', { ...limits, clusterCapacity: 10, ttlMs: 200 });
      await sleep(300);
      expect((await c.acquire('s6', 'c', { ...limits, clusterCapacity: 4 })).ok).toBe(true); // s5 expired
    });
  });
}
