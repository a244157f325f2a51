import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinatorSuite } from '../../origin/src/cluster/coordinator-suite.ts';
import { RedisCoordinator } from '../../origin/src/cluster/redis-coordinator.ts';
import { startRedisServer, type RedisServer } from '../support/redis-server.ts';

let redis: RedisServer;
let n = 0;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.close();
});

// Each case gets its own key prefix on the one real server.
coordinatorSuite('RedisCoordinator (real redis-server)', async () => new RedisCoordinator({ url: redis.url, prefix: `t${++n}:` }));

describe('RedisCoordinator across a Redis restart', () => {
  it('fails fast while Redis is down and works again after it is back', async () => {
    const c = new RedisCoordinator({ url: redis.url, prefix: 'restart:' });
    await c.start();
    expect(await c.renew('s1', 'a', 1, 5_000)).toBe(true);
    const restarted = redis.restart(300);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await expect(c.lease('s1')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    await restarted;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !(await c.renew('s1', 'a', 1, 5_000).catch(() => false))) await new Promise((r) => setTimeout(r, 100));
    expect(await c.lease('s1')).toMatchObject({ nodeId: 'a', epoch: 1 }); // re-created by the renewal
    await c.close('test over');
  });
});
