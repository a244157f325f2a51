import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';

/**
 * What can happen to a stream's lifecycle. Deletion is not here: it is a tombstone beside the
 * status, allowed from every status, and handled by the StreamDO directly.
 */
export type LifecycleEvent =
  /** The origin accepted a broadcaster with a valid key. */
  | 'publish'
  /** The broadcaster stopped or the origin node shut down cleanly. */
  | 'end'
  /** The pipeline failed (transcoder died) or the origin went silent; the stream may resume. */
  | 'fail'
  /** An `error` stream's resume grace window ran out without a new publish. */
  | 'expire';

const ALLOWED: Readonly<Record<StreamStatus, Partial<Record<LifecycleEvent, StreamStatus>>>> = {
  idle: { publish: 'live' },
  live: { end: 'ended', fail: 'error' },
  error: { publish: 'live', expire: 'ended' },
  // Ended is terminal: a finished broadcast is never reopened, a new one needs a new stream.
  ended: {},
};

/** The status after `event`, or an `invalid_transition` error (returned, not thrown). */
export function transition(from: StreamStatus, event: LifecycleEvent): StreamStatus | EdgeliveError {
  const to = ALLOWED[from][event];
  return to ?? new EdgeliveError('invalid_transition', `cannot ${event} a stream that is ${from}`);
}
