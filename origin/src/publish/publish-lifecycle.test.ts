import { describe, expect, it } from 'vitest';
import { describeOutcome, finishPlan, nextPublishState } from './publish-lifecycle.ts';

describe('nextPublishState', () => {
  it('walks probe → authorize → live → restart → live → finish → closed', () => {
    expect(nextPublishState('probing', 'probed')).toBe('authorizing');
    expect(nextPublishState('authorizing', 'granted')).toBe('live');
    expect(nextPublishState('live', 'transcoder_failed')).toBe('restarting');
    expect(nextPublishState('restarting', 'granted')).toBe('live');
    expect(nextPublishState('live', 'outcome')).toBe('finishing');
    expect(nextPublishState('finishing', 'finished')).toBe('closed');
  });

  it('lets an outcome end every state before finishing, and nothing leave closed', () => {
    for (const from of ['probing', 'authorizing', 'live', 'restarting'] as const) expect(nextPublishState(from, 'outcome')).toBe('finishing');
    expect(() => nextPublishState('closed', 'outcome')).toThrow("publish lifecycle: no step 'outcome' from 'closed'");
    expect(() => nextPublishState('probing', 'granted')).toThrow("publish lifecycle: no step 'granted' from 'probing'");
    expect(() => nextPublishState('finishing', 'granted')).toThrow("publish lifecycle: no step 'granted' from 'finishing'");
  });
});

describe('finishPlan', () => {
  it('publisher left after admission: drain, announce publisher_stopped, release, nothing to disconnect', () => {
    expect(finishPlan({ kind: 'stopped' }, true)).toEqual({ transcoder: 'drain', announceEnd: 'publisher_stopped', releaseLease: true, disconnect: null, outbox: 'keep' });
    expect(finishPlan({ kind: 'stopped' }, false)).toEqual({ transcoder: 'none', announceEnd: null, releaseLease: true, disconnect: null, outbox: 'keep' });
  });

  it('fenced: kill at once, drop the queue, keep hands off the lease, announce nothing', () => {
    expect(finishPlan({ kind: 'fenced', reason: 'stale epoch' }, true)).toEqual({ transcoder: 'kill', announceEnd: null, releaseLease: false, disconnect: 'fenced', outbox: 'cancel' });
  });

  it('superseded by a newer publish on this node: kill, keep the shared queue and the lease for the newer one', () => {
    expect(finishPlan({ kind: 'superseded' }, true)).toEqual({ transcoder: 'kill', announceEnd: null, releaseLease: false, disconnect: 'superseded', outbox: 'keep' });
  });

  it('handover and shutdown let the queue settle; only shutdown announces an end', () => {
    expect(finishPlan({ kind: 'handover', reason: 'relay lost' }, true)).toEqual({ transcoder: 'stop', announceEnd: null, releaseLease: true, disconnect: 'handover', outbox: 'settle' });
    expect(finishPlan({ kind: 'shutdown', reason: 'SIGTERM' }, true)).toEqual({ transcoder: 'stop', announceEnd: 'node_shutdown', releaseLease: true, disconnect: 'node_shutdown', outbox: 'settle' });
  });

  it('failed and refused disconnect with their code', () => {
    expect(finishPlan({ kind: 'failed', failure: { code: 'ffmpeg_exited', message: 'x' } }, true)).toEqual({ transcoder: 'stop', announceEnd: 'transcoder_failed', releaseLease: true, disconnect: 'transcoder_failed', outbox: 'keep' });
    expect(finishPlan({ kind: 'refused', code: 'stream_key_invalid', message: 'no' }, false)).toEqual({ transcoder: 'none', announceEnd: null, releaseLease: true, disconnect: 'stream_key_invalid', outbox: 'keep' });
  });

  it('describes each outcome for logs', () => {
    expect(describeOutcome({ kind: 'failed', failure: { code: 'ffmpeg_stalled', message: 'ffmpeg made no progress for 3000 ms', stalledMs: 3000 } })).toBe('transcoder failed (ffmpeg_stalled): ffmpeg made no progress for 3000 ms');
    expect(describeOutcome({ kind: 'refused', code: 'over_capacity', message: 'node full' })).toBe('refused (over_capacity): node full');
  });
});
