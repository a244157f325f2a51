import { describe, expect, it } from 'vitest';
import { fakeRowStore, fakeWriter, streamRow } from '../test-support/fake-stream.ts';
import { checkAnnounce, resumeStream, storeHeartbeat, storeSegments, type AnnounceKind, type AnnounceStore } from './stream-announces.ts';
import type { RenditionRow, StreamRow } from './stream-schema.ts';
import type { NewSegment } from './stream-store.ts';

const NOW = 1_000_000;
const KINDS: AnnounceKind[] = ['rendition', 'segments', 'heartbeat', 'end'];

/** An announce store with one 720p rendition of `epoch`, no segments yet, and a list of inserts. */
function announceStore(epoch: number) {
  const rows = fakeRowStore(streamRow({ status: 'live', epoch, target_duration: 2 }));
  const inserted: NewSegment[] = [];
  const store: AnnounceStore = {
    updateStream: rows.updateStream,
    bumpRegistryVersion: rows.bumpRegistryVersion,
    upsertRendition: () => {},
    rendition: (name) => (name === '720p' ? ({ name, epoch, init_file: `init-${epoch}.mp4` } as RenditionRow) : null),
    lastSegment: () => null,
    insertSegment: (s) => {
      inserted.push(s);
    },
    pruneSegmentsBefore: () => 0,
  };
  return { store, rows, inserted };
}

function segment(msn: number, duration = 2, epoch = 1) {
  return { rendition: '720p', msn, epoch, duration, programDateTime: 1, file: `seg-${msn}-e${epoch}.m4s`, bytes: 100, gap: false };
}

function failedRow(reason: string): StreamRow {
  return streamRow({ status: 'error', epoch: 2, interrupted_at: NOW - 8000, last_error: JSON.stringify({ reason, message: 'x', at: NOW - 8000 }) });
}

/** What checkAnnounce makes of each kind of announce of the current epoch on `row`: a verdict or the refusal's code. */
function verdicts(row: StreamRow): Record<AnnounceKind, string> {
  const out = {} as Record<AnnounceKind, string>;
  for (const kind of KINDS) {
    try {
      out[kind] = checkAnnounce(row, row.epoch, kind);
    } catch (err) {
      out[kind] = (err as { code: string }).code;
    }
  }
  return out;
}

describe('checkAnnounce', () => {
  it('refuses another epoch as stale_epoch, whatever the status', () => {
    expect(() => checkAnnounce(streamRow({ status: 'live', epoch: 2 }), 1, 'heartbeat')).toThrow(
      expect.objectContaining({ code: 'stale_epoch', message: 'epoch 1 is not the current epoch 2' }),
    );
    expect(() => checkAnnounce(streamRow({ status: 'reconnecting', epoch: 3 }), 2, 'segments')).toThrow(expect.objectContaining({ code: 'stale_epoch' }));
  });

  it('takes everything while live', () => {
    expect(verdicts(streamRow({ status: 'live', epoch: 2 }))).toEqual({ rendition: 'accept', segments: 'accept', heartbeat: 'accept', end: 'accept' });
  });

  it('takes late uploads but no heartbeat while reconnecting or after a pipeline failure', () => {
    const late = { rendition: 'accept', segments: 'accept', heartbeat: 'invalid_transition', end: 'accept' };
    expect(verdicts(streamRow({ status: 'reconnecting', epoch: 2 }))).toEqual(late);
    expect(verdicts(failedRow('transcoder_failed'))).toEqual(late);
  });

  it('resumes an origin_silent error on any announce but an end', () => {
    expect(verdicts(failedRow('origin_silent'))).toEqual({ rendition: 'resume', segments: 'resume', heartbeat: 'resume', end: 'accept' });
  });

  it('refuses every announce but a repeated end once ended', () => {
    expect(verdicts(streamRow({ status: 'ended', epoch: 2 }))).toEqual({ rendition: 'invalid_transition', segments: 'invalid_transition', heartbeat: 'invalid_transition', end: 'accept' });
    expect(() => checkAnnounce(streamRow({ status: 'ended', epoch: 2 }), 2, 'heartbeat')).toThrow(expect.objectContaining({ message: 'stream s1 is ended: announces are refused' }));
    expect(() => checkAnnounce(streamRow({ status: 'reconnecting', epoch: 2 }), 2, 'heartbeat')).toThrow(
      expect.objectContaining({ message: 'stream s1 is reconnecting: epoch 2 was ended by its origin, heartbeats are refused' }),
    );
  });
});

describe('resumeStream', () => {
  it('moves error → live in the same epoch with a resumed event measuring the outage', () => {
    const rows = fakeRowStore(failedRow('origin_silent'));
    const { writer, log } = fakeWriter(rows.state);
    const { store } = announceStore(2);
    const result = writer.write((tx) => resumeStream({ ...store, updateStream: rows.updateStream, bumpRegistryVersion: rows.bumpRegistryVersion }, tx, rows.state.row, NOW));
    expect(result).toMatchObject({ ok: true, value: { status: 'live', epoch: 2, interrupted_at: null, last_activity_at: NOW } });
    expect(rows.state.row).toMatchObject({ status: 'live', epoch: 2, interrupted_at: null, last_activity_at: NOW });
    expect(log.map((e) => [e.type, e.data])).toEqual([['resumed', { epoch: 2, afterMs: 8000 }]]);
    expect(rows.state.bumps).toBe(1);
  });
});

describe('storeSegments', () => {
  it('indexes new segments with their epoch init file, raises the target duration and answers the counts', () => {
    const { store, rows, inserted } = announceStore(1);
    const { writer } = fakeWriter(rows.state);
    const ack = writer.write((tx) => storeSegments(store, tx, rows.state.row, NOW, { epoch: 1, segments: [segment(0), segment(1, 3.6)] }, 10));
    expect(ack).toEqual({ ok: true, value: { status: 'live', epoch: 1, stored: 2, skipped: 0 } });
    expect(inserted.map((s) => [s.msn, s.epoch, s.initFile, s.discontinuity, s.gap])).toEqual([
      [0, 1, 'init-1.mp4', false, false],
      [1, 1, 'init-1.mp4', false, false],
    ]);
    expect(rows.state.row).toMatchObject({ last_activity_at: NOW, target_duration: 4 });
  });

  it('never lowers the target duration', () => {
    const { store, rows } = announceStore(1);
    const { writer } = fakeWriter(rows.state);
    writer.write((tx) => storeSegments(store, tx, { ...rows.state.row, target_duration: 6 }, NOW, { epoch: 1, segments: [segment(0)] }, 10));
    expect(rows.state.row.target_duration).toBe(6);
  });
});

describe('storeHeartbeat', () => {
  it('keeps the metrics and counts as activity', () => {
    const { store, rows } = announceStore(1);
    const metrics = { bitrateKbps: 2500, fps: 30, speed: 1, droppedFrames: 0 };
    expect(storeHeartbeat(store, rows.state.row, NOW, { epoch: 1, metrics })).toEqual({ status: 'live', epoch: 1 });
    expect(rows.state.row).toMatchObject({ last_activity_at: NOW, last_heartbeat_at: NOW, metrics: JSON.stringify(metrics) });
  });
});
