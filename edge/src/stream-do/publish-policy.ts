/** Whether a publish may open a new epoch: key, status, codecs, competing publisher. Pure. */
import type { SourceInfo, StreamStatus } from '../../../shared/src/types.ts';

/** The only codecs the origin's transcoder takes in. */
export const ACCEPTED_CODECS = { videoCodec: 'h264', audioCodec: 'aac' } as const;

/** Message of every key refusal: it never says which part of the key was wrong. */
export const KEY_INVALID_MESSAGE = 'stream key is not valid';

/** Why a publish is refused: the wire code, a short reason for the event log, and the message. */
export interface PublishRefusal {
  code: 'stream_key_invalid' | 'stream_ended' | 'unsupported_codec' | 'conflict';
  reason: 'key_mismatch' | 'stream_ended' | 'unsupported_codec' | 'already_publishing';
  message: string;
}

/** What the policy reads of the stream. */
export interface PublishState {
  id: string;
  status: StreamStatus;
  /** True when the stored key hash equals the presented one (compared in constant time by the caller). */
  keyMatches: boolean;
  /** True when the current publisher announced or sent a heartbeat within the liveness timeout. */
  publisherFresh: boolean;
  nodeId: string | null;
  /** The epoch the stream is at now. */
  epoch: number;
}

/** The refusal for this publish, or null when it may go ahead. `takeover` names the epoch it replaces. */
export function publishRefusal(state: PublishState, source: SourceInfo, takeover?: { previousEpoch: number }): PublishRefusal | null {
  if (!state.keyMatches) return { code: 'stream_key_invalid', reason: 'key_mismatch', message: KEY_INVALID_MESSAGE };
  if (state.status === 'ended') {
    return { code: 'stream_ended', reason: 'stream_ended', message: `stream ${state.id} has ended; create a new stream to broadcast again` };
  }
  const { videoCodec, audioCodec } = source;
  if (videoCodec !== ACCEPTED_CODECS.videoCodec || audioCodec !== ACCEPTED_CODECS.audioCodec) {
    return {
      code: 'unsupported_codec',
      reason: 'unsupported_codec',
      message: `received video "${videoCodec}" with audio "${audioCodec}"; accepted: video "${ACCEPTED_CODECS.videoCodec}" with audio "${ACCEPTED_CODECS.audioCodec}"`,
    };
  }
  // A takeover replaces exactly the current epoch of a live stream; anything else is stale.
  if (takeover && state.status === 'live' && takeover.previousEpoch === state.epoch) return null;
  if (state.status === 'live' && state.publisherFresh) {
    return { code: 'conflict', reason: 'already_publishing', message: `stream ${state.id} is already publishing from node ${state.nodeId ?? 'unknown'}` };
  }
  return null;
}
