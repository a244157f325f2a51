/** The lifecycle of one publish on an origin node, as pure tables: states, steps, outcomes and how each outcome is finished. */
import type { EndAnnounce } from '../../../shared/src/schemas.ts';
import type { TranscoderFailure } from '../transcode/transcoder.ts';

/** Where a publish is: checking codecs, asking the edge, transcoding, restarting ffmpeg, finishing, gone. */
export type PublishRunState = 'probing' | 'authorizing' | 'live' | 'restarting' | 'finishing' | 'closed';

/** What moves a publish between states. `outcome`: something decided how it ends. */
export type PublishStep = 'probed' | 'granted' | 'transcoder_failed' | 'outcome' | 'finished';

const STEPS: Readonly<Record<PublishRunState, Partial<Record<PublishStep, PublishRunState>>>> = {
  probing: { probed: 'authorizing', outcome: 'finishing' },
  authorizing: { granted: 'live', outcome: 'finishing' },
  live: { transcoder_failed: 'restarting', outcome: 'finishing' },
  restarting: { granted: 'live', outcome: 'finishing' },
  finishing: { finished: 'closed' },
  closed: {},
};

/** The state after `step`; throws on a step the table does not allow (a bug in the runner, never input). */
export function nextPublishState(from: PublishRunState, step: PublishStep): PublishRunState {
  const to = STEPS[from][step];
  if (!to) throw new Error(`publish lifecycle: no step '${step}' from '${from}'`);
  return to;
}

/** How a publish ended. Every path of the runner returns exactly one of these. */
export type PublishOutcome =
  /** Never admitted: bad key or app, codecs, lease or capacity, the edge's refusal. */
  | { kind: 'refused'; code: string; message: string }
  /** The broadcaster disconnected: the stream waits for it in its reconnect window. */
  | { kind: 'stopped' }
  /** ffmpeg kept failing (or a restart was refused): the stream goes to `error`. */
  | { kind: 'failed'; failure: TranscoderFailure | { code: 'restart_refused'; message: string } }
  /** The edge or the lease says another writer owns the stream now (stale epoch, ended, deleted, key rotated). */
  | { kind: 'fenced'; reason: string }
  /** A newer publish of the same stream on this node took over (the broadcaster reconnected before its old connection died). */
  | { kind: 'superseded' }
  /** This node leaves the stream to another without ending it (relay lost, graceful shutdown). */
  | { kind: 'handover'; reason: string }
  /** This node shuts down with no other to take the stream: `error`, resumable. */
  | { kind: 'shutdown'; reason: string };

/** What finishing an outcome does; decided here, carried out only by the runner's single exit. */
export interface FinishPlan {
  /** ffmpeg: drain its input (its last frames kept), stop it (kill, wait for its outputs), kill it, or nothing to do. */
  transcoder: 'drain' | 'stop' | 'kill' | 'none';
  /** The end to announce under the publish's epoch, if any. */
  announceEnd: EndAnnounce['reason'] | null;
  /** Give the stream lease back (not when another writer holds the stream now). */
  releaseLease: boolean;
  /** Disconnect the publisher with this code; null when it is already gone. */
  disconnect: string | null;
  /** The stream's outbox: keep storing and announcing what is queued, wait for it first, or drop it. */
  outbox: 'keep' | 'settle' | 'cancel';
}

/** How to finish `outcome`; `granted` says whether the edge had admitted the publish. Pure. */
export function finishPlan(outcome: PublishOutcome, granted: boolean): FinishPlan {
  switch (outcome.kind) {
    case 'refused':
      return { transcoder: 'none', announceEnd: null, releaseLease: true, disconnect: outcome.code, outbox: 'keep' };
    case 'stopped':
      return { transcoder: granted ? 'drain' : 'none', announceEnd: granted ? 'publisher_stopped' : null, releaseLease: true, disconnect: null, outbox: 'keep' };
    case 'failed':
      return { transcoder: 'stop', announceEnd: 'transcoder_failed', releaseLease: true, disconnect: 'transcoder_failed', outbox: 'keep' };
    case 'fenced':
      return { transcoder: 'kill', announceEnd: null, releaseLease: false, disconnect: 'fenced', outbox: 'cancel' };
    case 'superseded':
      return { transcoder: 'kill', announceEnd: null, releaseLease: false, disconnect: 'superseded', outbox: 'keep' };
    case 'handover':
      return { transcoder: 'stop', announceEnd: null, releaseLease: true, disconnect: 'handover', outbox: 'settle' };
    case 'shutdown':
      return { transcoder: 'stop', announceEnd: granted ? 'node_shutdown' : null, releaseLease: true, disconnect: 'node_shutdown', outbox: 'settle' };
  }
}

/** A short text for logs and disconnect reasons. Pure. */
export function describeOutcome(outcome: PublishOutcome): string {
  switch (outcome.kind) {
    case 'refused':
      return `refused (${outcome.code}): ${outcome.message}`;
    case 'stopped':
      return 'publisher stopped';
    case 'failed':
      return `transcoder failed (${outcome.failure.code}): ${outcome.failure.message}`;
    case 'fenced':
      return `fenced: ${outcome.reason}`;
    case 'superseded':
      return 'superseded by a newer publish of the same stream';
    case 'handover':
    case 'shutdown':
      return `${outcome.kind}: ${outcome.reason}`;
  }
}
