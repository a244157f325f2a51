import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.ts';

describe('Semaphore', () => {
  it('never runs more than its permits at once and serves waiters in order', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const tasks = Array.from({ length: 6 }, (_, i) =>
      semaphore.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
      }),
    );
    expect(semaphore.active).toBe(2);
    expect(semaphore.waiting).toBe(4);
    await Promise.all(tasks);

    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(semaphore.active).toBe(0);
  });

  it('releases the permit when the task throws, and a double release is harmless', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const release = await semaphore.acquire();
    release();
    release();
    expect(semaphore.active).toBe(0);
  });

  it('rejects a non-positive permit count', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
