import { describe, expect, it } from 'vitest';
import type { StreamRow } from './stream-schema.ts';
import { nextAlarmAt } from './stream-upkeep.ts';

const NOW = 1_000_000;
const base = {
  status: 'idle',
  deleted_at: null,
  last_activity_at: null,
  purge_pending: 0,
  registry_version: 1,
  registry_synced_version: 1,
} as unknown as StreamRow;

describe('nextAlarmAt', () => {
  it('sleeps when nothing is pending', () => {
    expect(nextAlarmAt(base, NOW, 5000)).toBeNull();
    expect(nextAlarmAt({ ...base, status: 'ended' }, NOW, 5000)).toBeNull();
  });

  it('wakes at the liveness deadline while live', () => {
    expect(nextAlarmAt({ ...base, status: 'live', last_activity_at: NOW - 1000 }, NOW, 5000)).toBe(NOW + 4000);
  });

  it('wakes at once for a purge and soon for a registry retry, whichever is first', () => {
    expect(nextAlarmAt({ ...base, deleted_at: NOW, purge_pending: 1 }, NOW, 5000)).toBe(NOW);
    expect(nextAlarmAt({ ...base, registry_version: 2 }, NOW, 5000)).toBe(NOW + 1000);
    expect(nextAlarmAt({ ...base, status: 'live', last_activity_at: NOW - 4900, registry_version: 2 }, NOW, 5000)).toBe(NOW + 100);
  });

  it('does not watch liveness of a deleted stream', () => {
    expect(nextAlarmAt({ ...base, status: 'live', last_activity_at: NOW, deleted_at: NOW }, NOW, 5000)).toBeNull();
  });
});
