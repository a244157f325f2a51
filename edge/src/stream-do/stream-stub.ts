import { EdgeliveError } from '../../../shared/src/errors.ts';
import { isStreamId } from '../../../shared/src/keys/stream-key.ts';
import type { Env } from '../env.ts';
import type { StreamDO } from './stream-do.ts';

/** The StreamDO of a stream id; a malformed id is `stream_not_found` without touching any object. */
export function streamStub(env: Env, streamId: string): DurableObjectStub<StreamDO> {
  if (!isStreamId(streamId)) throw new EdgeliveError('stream_not_found', 'stream not found');
  return env.STREAM_DO.get(env.STREAM_DO.idFromName(streamId));
}
