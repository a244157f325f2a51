import { describe, expect, it } from 'vitest';
import { SessionExchange, exchangeSource, isExchangeSource } from './session-exchange.ts';
import { unpackSessions } from '../viewers/packed-batch.ts';
import type { SessionSeen } from '../viewers/viewer-batch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seen = (sid: string, lastSeen: number, rendition = '720p'): SessionSeen => ({ sid, rendition, lastSeen });

describe('SessionExchange', () => {
  it('passes each relay its polls once per interval, in one packed batch, in the order they came', async () => {
    const sent: { relay: number; sessions: SessionSeen[]; at: number }[] = [];
    const exchange = new SessionExchange(async (relay, sessions) => void sent.push({ relay, sessions: unpackSessions(structuredClone(sessions)), at: Date.now() }), 50);
    const start = Date.now();
    const add = (relay: number, s: SessionSeen) => exchange.add(relay, s.sid, s.rendition, s.lastSeen);
    add(3, seen('a', 1000));
    add(5, seen('b', 1000));
    add(3, seen('a', 2000, '360p'));
    add(3, seen('a', 1500)); // older: passed on too, the receiving relay keeps the latest
    add(3, seen('c', 1000));
    expect(sent).toEqual([]);
    await sleep(120);
    expect(sent.map((s) => [s.relay, s.sessions])).toEqual([
      [3, [seen('a', 1000), seen('a', 2000, '360p'), seen('a', 1500), seen('c', 1000)]],
      [5, [seen('b', 1000)]],
    ]);
    expect(sent[0]!.at - start).toBeGreaterThanOrEqual(45);
    expect(exchange.sent).toBe(2);
    // Nothing pending: nothing sent; the next session starts the next interval.
    await sleep(120);
    expect(sent).toHaveLength(2);
    add(5, seen('d', 3000));
    await sleep(120);
    expect(sent.map((s) => s.relay)).toEqual([3, 5, 5]);
  });

  it('keeps exchanging after a relay failed to answer (its sessions wait for their next poll)', async () => {
    const sent: number[] = [];
    const exchange = new SessionExchange(async (relay) => {
      if (relay === 1) throw new Error('relay 1 unreachable');
      sent.push(relay);
    }, 20);
    exchange.add(1, 'a', '720p', 1);
    exchange.add(2, 'b', '720p', 1);
    await sleep(60);
    exchange.add(2, 'c', '720p', 2);
    await sleep(60);
    expect(sent).toEqual([2, 2]);
  });

  it('names exchange batches apart from edge shards and the StreamDO', () => {
    expect(isExchangeSource(exchangeSource(4))).toBe(true);
    expect(isExchangeSource('e:FRA')).toBe(false);
    expect(isExchangeSource('stream-do')).toBe(false);
  });
});
