import { afterEach, describe, expect, it, vi } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { fakeWriter } from '../test-support/fake-stream.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('StreamWriter', () => {
  it('answers the value and publishes the events once the write commits', () => {
    const { writer, log, published } = fakeWriter();
    const result = writer.write((tx) => {
      tx.event(10, 'a', { n: 1 });
      tx.event(11, 'b', {});
      expect(published).toEqual([]); // written before broadcast
      return 42;
    });
    expect(result).toEqual({ ok: true, value: 42 });
    expect(log.map((e) => e.type)).toEqual(['a', 'b']);
    expect(published).toEqual([[{ seq: 1, ts: 10, type: 'a', data: { n: 1 } }, { seq: 2, ts: 11, type: 'b', data: {} }]]);
  });

  it('turns a thrown EdgeliveError into a refusal, rolls back and publishes nothing', () => {
    const { writer, log, published } = fakeWriter();
    const result = writer.write((tx) => {
      tx.event(10, 'a', {});
      throw new EdgeliveError('conflict', 'no');
    });
    expect(result).toEqual({ ok: false, code: 'conflict', message: 'no' });
    expect(log).toEqual([]);
    expect(published).toEqual([]);
  });

  it('rethrows anything that is not an EdgeliveError', () => {
    const { writer, published } = fakeWriter();
    expect(() => writer.write(() => {
      throw new TypeError('bug');
    })).toThrow('bug');
    expect(published).toEqual([]);
  });

  it('logs a transition the state machine refused as transition_refused, after the rollback', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { writer, log, published } = fakeWriter();
    const result = writer.write((tx) => {
      tx.event(10, 'rolled_back', {});
      return tx.transition('ended', 'publish');
    });
    expect(result).toEqual({ ok: false, code: 'invalid_transition', message: 'cannot publish a stream that is ended' });
    expect(log).toEqual([{ seq: 1, ts: expect.any(Number), type: 'transition_refused', data: { from: 'ended', event: 'publish', message: 'cannot publish a stream that is ended' } }]);
    expect(published).toEqual([log]);
    expect(warn).toHaveBeenCalledWith('stream transition refused: cannot publish a stream that is ended');
  });

  it('takes allowed transitions and forgets a refusal once its write is over', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { writer, log } = fakeWriter();
    expect(writer.write((tx) => tx.transition('idle', 'publish'))).toEqual({ ok: true, value: 'live' });
    writer.write((tx) => tx.transition('ended', 'end'));
    expect(writer.write(() => {
      throw new EdgeliveError('conflict', 'plain');
    })).toEqual({ ok: false, code: 'conflict', message: 'plain' });
    expect(log.map((e) => e.type)).toEqual(['transition_refused']);
  });
});
