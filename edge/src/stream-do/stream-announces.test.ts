import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeRowStore, fakeWriter, streamRow } from '../test-support/fake-stream.ts';
import { checkAnnounce, storeHeartbeat, storeSegments, type AnnounceStore } from './stream-announces.ts';
import type { RenditionRow, SegmentRow } from './stream-schema.ts';
import type { NewSegment } from './stream-store.ts';

const NOW = 1_000_000;

/** An announce store with one 720p rendition of `epoch`, `stored` segments and a list of inserts. */
function announceStore(epoch: number, stored: Partial<SegmentRow>[] = []) {
  const rows = fakeRowStore(streamRow({ status: 'live', epoch, target_duration: 2 }));
  const inserted: NewSegment[] = [];
  const store: AnnounceStore = {
    updateStream: rows.updateStream,
    upsertRendition: () => {},
    rendition: (name) => (name === '720p' ? ({ name, epoch, init_file: `init-${epoch}.mp4` } as RenditionRow) : null),
    segment: (rendition, msn) => (stored.find((s) => s.rendition === rendition && s.msn === msn) as SegmentRow | undefined) ?? null,
    insertSegment: (s) => inserted.push(s) > 0,
  };
  return { store, rows, inserted };
}

function segment(msn: number, duration = 2) {
  return { rendition: '720p', msn, duration, programDateTime: 1, file: `seg-${msn}.m4s`, bytes: 100 };
}

describe('checkAnnounce', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('passes a current epoch of a live stream', () => {
    const { writer } = fakeWriter();
    expect(writer.write((tx) => checkAnnounce(tx, streamRow({ status: 'live', epoch: 2 }), 2))).toEqual({ ok: true, value: undefined });
  });

  it('refuses another epoch as stale_epoch', () => {
    const { writer } = fakeWriter();
    expect(writer.write((tx) => checkAnnounce(tx, streamRow({ status: 'live', epoch: 2 }), 1))).toEqual({ ok: false, code: 'stale_epoch', message: 'epoch 1 is not the current epoch 2' });
  });

  it('refuses a stream that is not live, logging only a lifecycle announce as a refused transition', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { writer, log } = fakeWriter();
    const ended = streamRow({ status: 'ended', epoch: 2 });
    const refusal = { ok: false, code: 'invalid_transition', message: 'stream s1 is ended, not live: announces are refused' };
    expect(writer.write((tx) => checkAnnounce(tx, ended, 2))).toEqual(refusal);
    expect(log).toEqual([]);
    expect(writer.write((tx) => checkAnnounce(tx, ended, 2, 'end'))).toEqual(refusal);
    expect(log.map((e) => [e.type, e.data])).toEqual([['transition_refused', { from: 'ended', event: 'end', message: refusal.message }]]);
  });
});

describe('storeSegments', () => {
  it('indexes new segments with their init file and raises the target duration', () => {
    const { store, rows, inserted } = announceStore(1);
    const ack = storeSegments(store, rows.state.row, NOW, { epoch: 1, segments: [segment(0), segment(1, 3.6)] });
    expect(ack).toEqual({ status: 'live', epoch: 1, stored: 2 });
    expect(inserted.map((s) => [s.msn, s.epoch, s.initFile])).toEqual([[0, 1, 'init-1.mp4'], [1, 1, 'init-1.mp4']]);
    expect(rows.state.row).toMatchObject({ last_activity_at: NOW, target_duration: 4 });
  });

  it('never lowers the target duration', () => {
    const { store, rows } = announceStore(1);
    storeSegments(store, { ...rows.state.row, target_duration: 6 }, NOW, { epoch: 1, segments: [segment(0)] });
    expect(rows.state.row.target_duration).toBe(6);
  });

  it('skips a retried segment and refuses a different file under a stored msn', () => {
    const { store, rows, inserted } = announceStore(2, [{ rendition: '720p', msn: 5, epoch: 2, file: 'seg-5.m4s' }]);
    expect(storeSegments(store, rows.state.row, NOW, { epoch: 2, segments: [segment(5)] }).stored).toBe(0);
    expect(inserted).toEqual([]);
    expect(() => storeSegments(store, rows.state.row, NOW, { epoch: 2, segments: [{ ...segment(5), file: 'seg-6.m4s' }] })).toThrow(
      expect.objectContaining({ code: 'conflict', message: 'segment 5 of 720p is already stored by epoch 2' }),
    );
  });

  it('refuses segments of a rendition with no init segment in this epoch', () => {
    const { store, rows } = announceStore(2);
    expect(() => storeSegments(store, rows.state.row, NOW, { epoch: 3, segments: [segment(0)] })).toThrow(
      expect.objectContaining({ code: 'conflict', message: 'rendition 720p has no init segment announced in epoch 3' }),
    );
    expect(() => storeSegments(store, rows.state.row, NOW, { epoch: 2, segments: [{ ...segment(0), rendition: '360p' }] })).toThrow(
      expect.objectContaining({ code: 'conflict', message: 'rendition 360p has no init segment announced in epoch 2' }),
    );
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
