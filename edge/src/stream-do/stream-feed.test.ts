import { describe, expect, it } from 'vitest';
import type { SnapshotBody } from '../../../shared/src/feed/feed-messages.ts';
import { wantsSnapshot } from './stream-feed.ts';

function body(current: number): SnapshotBody {
  return {
    status: 'idle',
    epoch: 0,
    viewers: { current, peak: current, total: current, renditions: {} },
    ingest: null,
    qoe: { beacons: 0, startupMsP50: null, rebufferCount: 0, rebufferRatio: 0, switches: 0 },
    lastError: null,
  };
}

describe('wantsSnapshot', () => {
  it('keeps ticking while live (ingest figures move) or while viewers may age out', () => {
    expect(wantsSnapshot({ status: 'live' }, body(0), false)).toBe(true);
    expect(wantsSnapshot({ status: 'ended' }, body(1), false)).toBe(true);
  });

  it('ticks once more for a change, and then sleeps', () => {
    expect(wantsSnapshot({ status: 'ended' }, body(0), true)).toBe(true);
    expect(wantsSnapshot({ status: 'ended' }, body(0), false)).toBe(false);
    expect(wantsSnapshot({ status: 'idle' }, body(0), false)).toBe(false);
  });
});
