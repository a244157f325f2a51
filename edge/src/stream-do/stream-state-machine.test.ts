import { describe, expect, it } from 'vitest';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import { transition, type LifecycleEvent } from './stream-state-machine.ts';

describe('transition', () => {
  it.each<[StreamStatus, LifecycleEvent, StreamStatus]>([
    ['idle', 'publish', 'live'],
    ['live', 'end', 'ended'],
    ['live', 'fail', 'error'],
    ['error', 'publish', 'live'],
    ['error', 'expire', 'ended'],
  ])('%s --%s--> %s', (from, event, to) => {
    expect(transition(from, event)).toBe(to);
  });

  it.each<[StreamStatus, LifecycleEvent]>([
    ['idle', 'end'],
    ['idle', 'fail'],
    ['idle', 'expire'],
    ['live', 'expire'],
    ['live', 'publish'],
    ['error', 'end'],
    ['error', 'fail'],
    ['ended', 'publish'],
    ['ended', 'end'],
    ['ended', 'fail'],
    ['ended', 'expire'],
  ])('refuses %s --%s-->', (from, event) => {
    const result = transition(from, event);
    expect(result).toBeInstanceOf(EdgeliveError);
    expect((result as EdgeliveError).code).toBe('invalid_transition');
    expect((result as EdgeliveError).status).toBe(409);
    expect((result as EdgeliveError).message).toBe(`cannot ${event} a stream that is ${from}`);
  });
});
