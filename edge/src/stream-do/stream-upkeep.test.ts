import { describe, expect, it } from 'vitest';
import type { StreamRow } from './stream-schema.ts';
import { dueTransition, hasExpired, nextAlarmAt, streamTimeouts, type AlarmInputs } from './stream-upkeep.ts';
import type { Settings } from '../settings.ts';

const NOW = 1_000_000;
const T: AlarmInputs = { livenessMs: 5000, retentionMs: 600_000, oldestEventTs: null, snapshotDueAt: null };
const base = {
  status: 'idle',
  deleted_at: null,
  last_activity_at: null,
  purge_pending: 0,
  registry_version: 1,
  registry_synced_version: 1,
  reconnect_window_seconds: 30,
  interrupted_at: null,
  last_error: null,
} as unknown as StreamRow;

describe('nextAlarmAt', () => {
  it('sleeps when nothing is pending', () => {
    expect(nextAlarmAt(base, NOW, T)).toBeNull();
    expect(nextAlarmAt({ ...base, status: 'ended' }, NOW, T)).toBeNull();
  });

  it('wakes at the liveness deadline while live', () => {
    expect(nextAlarmAt({ ...base, status: 'live', last_activity_at: NOW - 1000 }, NOW, T)).toBe(NOW + 4000);
  });

  it('wakes at once for a purge and soon for a registry retry, whichever is first', () => {
    expect(nextAlarmAt({ ...base, deleted_at: NOW, purge_pending: 1 }, NOW, T)).toBe(NOW);
    expect(nextAlarmAt({ ...base, registry_version: 2 }, NOW, T)).toBe(NOW + 1000);
    expect(nextAlarmAt({ ...base, status: 'live', last_activity_at: NOW - 4900, registry_version: 2 }, NOW, T)).toBe(NOW + 100);
  });

  it('wakes exactly when a reconnect window ends, unless deleted', () => {
    const failed = { ...base, status: 'error', interrupted_at: NOW - 10_000, last_error: JSON.stringify({ reason: 'origin_silent', message: 'x', at: NOW - 10_000 }) } as StreamRow;
    expect(nextAlarmAt(failed, NOW, T)).toBe(NOW + 20_000);
    expect(nextAlarmAt({ ...failed, deleted_at: NOW }, NOW, T)).toBeNull();
    expect(nextAlarmAt({ ...base, status: 'reconnecting', interrupted_at: NOW - 1000, reconnect_window_seconds: 60 }, NOW, T)).toBe(NOW + 59_000);
    // An error row from before interrupted_at existed: the window runs from the error's time.
    expect(nextAlarmAt({ ...failed, interrupted_at: null }, NOW, T)).toBe(NOW + 20_000);
  });

  it('wakes for the next event prune and the next feed snapshot', () => {
    expect(nextAlarmAt(base, NOW, { ...T, oldestEventTs: NOW - 1000 })).toBe(NOW + 599_000);
    expect(nextAlarmAt(base, NOW, { ...T, oldestEventTs: NOW - 1000, snapshotDueAt: NOW + 700 })).toBe(NOW + 700);
  });

  it('does not watch liveness of a deleted stream', () => {
    expect(nextAlarmAt({ ...base, status: 'live', last_activity_at: NOW, deleted_at: NOW }, NOW, T)).toBeNull();
  });
});

describe('dueTransition', () => {
  const t = { livenessMs: 5000 };
  const failed = (ago: number) => ({ ...base, status: 'error', interrupted_at: NOW - ago, last_error: JSON.stringify({ reason: 'origin_silent', message: 'x', at: NOW - ago }) }) as StreamRow;
  const waiting = (ago: number) => ({ ...base, status: 'reconnecting', interrupted_at: NOW - ago }) as StreamRow;

  it('fails a live stream silent for the liveness timeout, not before', () => {
    expect(dueTransition({ ...base, status: 'live', last_activity_at: NOW - 4999 }, NOW, t)).toBeNull();
    expect(dueTransition({ ...base, status: 'live', last_activity_at: NOW - 5000 }, NOW, t)).toBe('silence');
    expect(dueTransition({ ...base, status: 'live', last_activity_at: null }, NOW, t)).toBe('silence');
  });

  it('ends an error or reconnecting stream once its reconnect window has run', () => {
    expect(dueTransition(failed(29_999), NOW, t)).toBeNull();
    expect(dueTransition(failed(30_000), NOW, t)).toBe('window');
    expect(dueTransition(waiting(29_999), NOW, t)).toBeNull();
    expect(dueTransition(waiting(30_000), NOW, t)).toBe('window');
    expect(dueTransition({ ...waiting(0), reconnect_window_seconds: 0 }, NOW, t)).toBe('window');
  });

  it('owes nothing to a deleted, idle or ended stream', () => {
    expect(dueTransition({ ...failed(60_000), deleted_at: NOW }, NOW, t)).toBeNull();
    expect(dueTransition({ ...base, status: 'live', deleted_at: NOW }, NOW, t)).toBeNull();
    expect(dueTransition(base, NOW, t)).toBeNull();
    expect(dueTransition({ ...base, status: 'ended' }, NOW, t)).toBeNull();
  });
});

describe('streamTimeouts', () => {
  it('converts the settings to ms', () => {
    const settings = { livenessTimeoutSeconds: 5, eventRetentionSeconds: 604_800 } as Settings;
    expect(streamTimeouts(settings)).toEqual({ livenessMs: 5000, retentionMs: 604_800_000 });
  });
});

describe('hasExpired', () => {
  const done = { doneWith: () => true };
  const holding = { doneWith: () => false };

  it('is true for an ended stream every duty is done with', () => {
    expect(hasExpired({ ...base, status: 'ended' }, [done], NOW)).toBe(true);
  });

  it('is false while a duty still holds the stream, before the end, once tombstoned, or with no duty to decide', () => {
    expect(hasExpired({ ...base, status: 'ended' }, [done, holding], NOW)).toBe(false);
    for (const status of ['idle', 'live', 'reconnecting', 'error']) expect(hasExpired({ ...base, status } as StreamRow, [done], NOW)).toBe(false);
    expect(hasExpired({ ...base, status: 'ended', deleted_at: NOW - 1 }, [done], NOW)).toBe(false);
    expect(hasExpired({ ...base, status: 'ended' }, [], NOW)).toBe(false);
  });
});
