/** Test-only fakes for the StreamDO's pure modules: a stream row, a row store and a writer without SQLite. */
import type { StreamEvent } from '../../../shared/src/feed/feed-messages.ts';
import type { StreamRow } from '../stream-do/stream-schema.ts';
import { StreamWriter } from '../stream-do/stream-writer.ts';

/** A stream row as `create` leaves it (idle, epoch 0), with `overrides` on top. */
export function streamRow(overrides: Partial<StreamRow> = {}): StreamRow {
  return {
    id: 's1',
    name: 'test',
    status: 'idle',
    deleted_at: null,
    key_hash: 'ab'.repeat(32),
    ladder: '{"rungs":[],"audioKbps":128}',
    low_latency: 0,
    part_seconds: 0.333,
    dvr_window_seconds: 0,
    segment_seconds: 2,
    target_duration: 2,
    created_at: 1,
    started_at: null,
    ended_at: null,
    epoch: 0,
    node_id: null,
    source: null,
    metrics: null,
    last_heartbeat_at: null,
    last_activity_at: null,
    last_error: null,
    purge_pending: 0,
    registry_version: 1,
    registry_synced_version: 1,
    reconnect_window_seconds: 60,
    reserved_msn: 0,
    interrupted_at: null,
    playback_policy: 'public',
    ...overrides,
  };
}

/** One mutable stream row behind `stream()` / `updateStream()`, counting registry bumps. */
export function fakeRowStore(row: StreamRow) {
  const state = { row, bumps: 0 };
  return {
    state,
    stream: () => state.row,
    updateStream: (changes: Partial<StreamRow>) => {
      state.row = { ...state.row, ...changes } as StreamRow;
    },
    bumpRegistryVersion: () => {
      state.bumps++;
    },
  };
}

/**
 * A StreamWriter over an in-memory event log whose transactions roll back by restoring a copy of
 * `state` (pass the fake store's state so row changes roll back too); `published` holds what the
 * feed would have been sent.
 */
export function fakeWriter(state: { row: StreamRow | null } = { row: null }) {
  const log: StreamEvent[] = [];
  const published: StreamEvent[][] = [];
  let seq = 0;
  const writer = new StreamWriter(
    {
      transactionSync<T>(fn: () => T): T {
        const saved = { row: state.row, length: log.length, seq };
        try {
          return fn();
        } catch (err) {
          state.row = saved.row;
          log.length = saved.length;
          seq = saved.seq;
          throw err;
        }
      },
    },
    { appendEvent: (ts, type, data) => log[log.push({ seq: ++seq, ts, type, data }) - 1]! },
    (events) => published.push([...events]),
  );
  return { writer, log, published };
}
