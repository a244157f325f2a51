import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeRowStore, fakeWriter, streamRow } from '../test-support/fake-stream.ts';
import { endByApi, rotateKey, updateSettings } from './stream-admin.ts';
import type { StreamRow } from './stream-schema.ts';

const NOW = 1_000_000;

function admin(row: StreamRow) {
  const rows = fakeRowStore(row);
  const { writer, log } = fakeWriter(rows.state);
  return { rows, writer, log, row: () => rows.state.row };
}

describe('endByApi', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each(['live', 'reconnecting', 'error'])('ends a %s stream now', (status) => {
    const a = admin(streamRow({ status, epoch: 3, node_id: 'n1' }));
    expect(a.writer.write((tx) => endByApi(a.rows, tx, a.row(), NOW))).toEqual({ ok: true, value: undefined });
    expect(a.row()).toMatchObject({ status: 'ended', ended_at: NOW, node_id: null });
    expect(a.log.map((e) => [e.type, e.data])).toEqual([['ended', { epoch: 3, reason: 'ended_by_api' }]]);
    expect(a.rows.state.bumps).toBe(1);
  });

  it.each(['idle', 'ended'])('refuses a %s stream, changing nothing', (status) => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const a = admin(streamRow({ status }));
    expect(a.writer.write((tx) => endByApi(a.rows, tx, a.row(), NOW))).toEqual({ ok: false, code: 'invalid_transition', message: `cannot end a stream that is ${status}` });
    expect(a.row()).toMatchObject({ status, ended_at: null });
    expect(a.log.map((e) => e.type)).toEqual(['transition_refused']);
  });
});

describe('rotateKey', () => {
  it('revokes a live publish: reconnecting, epoch fenced, window started', () => {
    const a = admin(streamRow({ status: 'live', epoch: 3, node_id: 'n1' }));
    a.writer.write((tx) => rotateKey(a.rows, tx, a.row(), NOW, 'cd'.repeat(32)));
    expect(a.row()).toMatchObject({ key_hash: 'cd'.repeat(32), status: 'reconnecting', epoch: 4, node_id: null, interrupted_at: NOW });
    expect(a.log.map((e) => [e.type, e.data])).toEqual([
      ['key_rotated', {}],
      ['reconnecting', { epoch: 3, reason: 'key_rotated', windowSeconds: 60 }],
    ]);
  });

  it('fences an error stream in place and leaves other statuses alone', () => {
    const failed = admin(streamRow({ status: 'error', epoch: 3, node_id: 'n1', interrupted_at: NOW - 5 }));
    failed.writer.write((tx) => rotateKey(failed.rows, tx, failed.row(), NOW, 'cd'.repeat(32)));
    expect(failed.row()).toMatchObject({ status: 'error', epoch: 4, node_id: null, interrupted_at: NOW - 5 });
    for (const status of ['idle', 'reconnecting', 'ended']) {
      const a = admin(streamRow({ status, epoch: 2 }));
      a.writer.write((tx) => rotateKey(a.rows, tx, a.row(), NOW, 'cd'.repeat(32)));
      expect(a.row()).toMatchObject({ status, epoch: 2, key_hash: 'cd'.repeat(32) });
      expect(a.log.map((e) => e.type)).toEqual(['key_rotated']);
    }
  });
});

describe('updateSettings', () => {
  it('changes only what was given, logs it, and tells the registry about a new name', () => {
    const a = admin(streamRow({ name: 'old', reconnect_window_seconds: 60 }));
    a.writer.write((tx) => updateSettings(a.rows, tx, NOW, { reconnectWindowSeconds: 0 }));
    expect(a.row()).toMatchObject({ name: 'old', reconnect_window_seconds: 0 });
    expect(a.rows.state.bumps).toBe(0);
    a.writer.write((tx) => updateSettings(a.rows, tx, NOW, { name: 'new' }));
    expect(a.row()).toMatchObject({ name: 'new', reconnect_window_seconds: 0 });
    expect(a.rows.state.bumps).toBe(1);
    expect(a.log.map((e) => [e.type, e.data])).toEqual([
      ['updated', { reconnectWindowSeconds: 0 }],
      ['updated', { name: 'new' }],
    ]);
  });
});
