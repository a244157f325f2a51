import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';

/**
 * What can happen to a stream's lifecycle. Deletion is not here: it is a tombstone beside the
 * status, allowed from every status, and handled by the StreamDO directly.
 */
export type LifecycleEvent =
  /** The origin accepted a broadcaster with a valid key (a first publish, or a reconnect). */
  | 'publish'
  /** The broadcaster left (clean stop or a cut connection); the stream waits for it to come back. */
  | 'disconnect'
  /** The broadcast is over for good: ended by the API, or the broadcaster left with a window of 0. */
  | 'end'
  /** The pipeline failed (transcoder died, node shut down) or the origin went silent; the stream may resume. */
  | 'fail'
  /** A `reconnecting` or `error` stream's reconnect window ran out without a new publish. */
  | 'expire'
  /** The origin of an `error` (origin_silent) stream spoke again in the same epoch: the edge, not the origin, was away. */
  | 'resume'
  /** The key was rotated under a live publish: its epoch is fenced and the stream waits for the new key. */
  | 'revoke';

const ALLOWED: Readonly<Record<StreamStatus, Partial<Record<LifecycleEvent, StreamStatus>>>> = {
  idle: { publish: 'live' },
  live: { disconnect: 'reconnecting', end: 'ended', fail: 'error', revoke: 'reconnecting' },
  reconnecting: { publish: 'live', expire: 'ended', end: 'ended' },
  error: { publish: 'live', expire: 'ended', end: 'ended', resume: 'live' },
  // Ended is terminal: a finished broadcast is never reopened, a new one needs a new stream.
  ended: {},
};

/** The status after `event`, or an `invalid_transition` error (returned, not thrown). */
export function transition(from: StreamStatus, event: LifecycleEvent): StreamStatus | EdgeliveError {
  const to = ALLOWED[from][event];
  return to ?? new EdgeliveError('invalid_transition', `cannot ${event} a stream that is ${from}`);
}
