import { describe, expect, it } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { STREAM_STATUSES, type StreamStatus } from '../../../shared/src/types.ts';
import { transition, type LifecycleEvent } from './stream-state-machine.ts';

const ALLOWED: [StreamStatus, LifecycleEvent, StreamStatus][] = [
  ['idle', 'publish', 'live'],
  ['live', 'disconnect', 'reconnecting'],
  ['live', 'end', 'ended'],
  ['live', 'fail', 'error'],
  ['live', 'revoke', 'reconnecting'],
  ['reconnecting', 'publish', 'live'],
  ['reconnecting', 'expire', 'ended'],
  ['reconnecting', 'end', 'ended'],
  ['error', 'publish', 'live'],
  ['error', 'expire', 'ended'],
  ['error', 'end', 'ended'],
  ['error', 'resume', 'live'],
];

const EVENTS: LifecycleEvent[] = ['publish', 'disconnect', 'end', 'fail', 'expire', 'resume', 'revoke'];

/** Every (status, event) pair the table does not allow. */
const REFUSED = STREAM_STATUSES.flatMap((from) =>
  EVENTS.filter((event) => !ALLOWED.some(([f, e]) => f === from && e === event)).map((event): [StreamStatus, LifecycleEvent] => [from, event]),
);

describe('transition', () => {
  it.each(ALLOWED)('%s --%s--> %s', (from, event, to) => {
    expect(transition(from, event)).toBe(to);
  });

  it('refuses the other 23 pairs, every event out of ended among them', () => {
    expect(REFUSED).toHaveLength(5 * 7 - 12);
    expect(REFUSED.filter(([from]) => from === 'ended').map(([, event]) => event)).toEqual(EVENTS);
  });

  it.each(REFUSED)('refuses %s --%s-->', (from, event) => {
    const result = transition(from, event);
    expect(result).toBeInstanceOf(EdgeliveError);
    expect((result as EdgeliveError).code).toBe('invalid_transition');
    expect((result as EdgeliveError).status).toBe(409);
    expect((result as EdgeliveError).message).toBe(`cannot ${event} a stream that is ${from}`);
  });
});
