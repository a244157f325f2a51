import type { Logger } from 'pino';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { parseStreamKey } from '../../../shared/src/keys/stream-key.ts';
import type { EndAnnounce, PublishGrant } from '../../../shared/src/schemas.ts';
import type { SourceInfo } from '../../../shared/src/types.ts';
import type { EdgeClient } from '../announce/edge-client.ts';
import { isEdgeRefusal } from '../announce/edge-refusal.ts';
import { ingestMetrics } from '../announce/rendition-info.ts';
import type { StreamOutbox } from '../announce/stream-outbox.ts';
import type { StreamOwnership } from '../cluster/lease-keeper.ts';
import { FlvReplayCache } from '../ingest/flv-replay-cache.ts';
import { PublishAdmission, requestGrant } from '../ingest/publish-admission.ts';
import type { IngestPublish } from '../ingest/rtmp-ingest-server.ts';
import { sleepUnlessAborted } from '../store/persistent-upload.ts';
import { planLadder, type TranscodePlan } from '../transcode/ladder-plan.ts';
import { RestartPolicy } from '../transcode/restart-policy.ts';
import { Transcoder, type TranscoderEvents, type TranscoderFailure } from '../transcode/transcoder.ts';
import { describeOutcome, finishPlan, nextPublishState, type PublishOutcome, type PublishRunState, type PublishStep } from './publish-lifecycle.ts';

/** ffmpeg input backlog at which the transcoder counts as unable to keep up. */
export const MAX_TRANSCODE_BACKLOG_BYTES = 64 * 1024 * 1024;
/** Background attempts to deliver an end the edge did not take at once (an edge outage). */
export const END_ANNOUNCE_RETRY_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/** Settings a publish takes from the node's configuration. */
export interface PublishRunSettings {
  nodeId: string;
  heartbeatMs: number;
  probeTimeoutMs: number;
  drainTimeoutMs: number;
  maxRestarts: number;
  restartBackoffMs: number;
  /** A transcoder running this long without failing resets the restart count. */
  healthyResetMs: number;
  /** How long a publish is held while the edge cannot be asked for its grant. */
  grantPatienceMs: number;
  /** How long a handover waits for the outbox to store and announce what is queued. */
  handoverSettleMs: number;
}

/** Counters a publish reports (implemented with prom-client by the node). */
export interface PublishRunMetrics {
  ingestBitrate(streamId: string, kbps: number | undefined): void;
  ffmpegRestarted(): void;
  coordinatorError(): void;
}

/** The transcoder as a publish drives it (the real one spawns ffmpeg; unit tests give a fake). */
export type StreamTranscoder = Pick<Transcoder, 'started' | 'progress' | 'start' | 'fed' | 'write' | 'stalledFor' | 'drain' | 'stop' | 'kill'>;

/** What a publish works with; all owned by its node. */
export interface PublishRunDeps {
  publish: IngestPublish;
  settings: PublishRunSettings;
  edge: EdgeClient;
  metrics: PublishRunMetrics;
  ownership: StreamOwnership;
  /** A node this publish replaces because its relay broke (cluster takeover). */
  takeoverFrom?: string;
  logger: Logger;
  /** The stream's outbox on this node, shared with its earlier and later publishes. */
  outboxFor(streamId: string): StreamOutbox;
  /** The edge admitted this publish: the node makes it the stream's current one (an older one is superseded). */
  claim(streamId: string): void;
  /**
   * Resolves when earlier publishes of the stream on this node have finished (bounded), so a
   * reconnect numbers its segments after everything the old ffmpeg made and takes the lease after
   * the old publish gave it back.
   */
  earlierPublishesDone(streamId: string): Promise<void>;
  createTranscoder(events: TranscoderEvents): StreamTranscoder;
}

type Stop = { stop: PublishOutcome };

/**
 * One broadcaster's publish on this node, from RTMP publish to its end: probe the codecs, take the
 * lease, ask the edge for a grant, run ONE ffmpeg whose media flows down into the stream's outbox
 * (store → announce), heartbeat, restart a failing ffmpeg under a new epoch. Every path returns a
 * PublishOutcome from `#runInner`; `#finish` alone announces the end, releases the lease and
 * disconnects, as `finishPlan` says.
 */
export class PublishRun {
  #state: PublishRunState = 'probing';
  readonly #d: PublishRunDeps;
  readonly #admission = new PublishAdmission();
  readonly #replay = new FlvReplayCache();
  readonly #restartPolicy: RestartPolicy;
  readonly #transcoder: StreamTranscoder;
  readonly #stopped = new AbortController();
  #outcome: PublishOutcome | undefined;
  #stopWaiters: ((s: Stop) => void)[] = [];
  #failure: ((f: TranscoderFailure) => void) | undefined;
  #log: Logger;
  #streamLog: Logger;
  #streamId: string | undefined;
  #grant: PublishGrant | undefined;
  #plan: TranscodePlan | undefined;
  #source: SourceInfo | undefined;
  #outbox: StreamOutbox | undefined;
  #owned = false;
  #untap: (() => void) | undefined;
  #ingestBytes = 0;
  #timers: NodeJS.Timeout[] = [];
  #heartbeatInFlight = false;
  #edgeFailures = 0;
  #result: Promise<PublishOutcome> | undefined;

  constructor(deps: PublishRunDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ session: deps.publish.sessionId });
    this.#streamLog = this.#log;
    const s = deps.settings;
    this.#restartPolicy = new RestartPolicy({ maxRestarts: s.maxRestarts, backoffMs: s.restartBackoffMs, healthyResetMs: s.healthyResetMs });
    this.#transcoder = deps.createTranscoder({ onFailed: (f) => this.#failed(f) });
  }

  get state(): PublishRunState {
    return this.#state;
  }

  /** The stream id once the key was parsed. */
  get streamId(): string | undefined {
    return this.#streamId;
  }

  /** The epoch the edge granted, once it did. */
  get epoch(): number | undefined {
    return this.#grant?.epoch;
  }

  /** Runs the publish to its end (once; later calls share the result). */
  run(): Promise<PublishOutcome> {
    this.#result ??= this.#runInner()
      .catch((err: unknown): PublishOutcome => {
        this.#log.error({ err }, 'publish failed unexpectedly');
        return { kind: 'failed', failure: { code: 'ffmpeg_exited', message: `internal error: ${(err as Error).message}` } };
      })
      .then(async (outcome) => {
        await this.#finish(outcome);
        return outcome;
      });
    return this.#result;
  }

  /** The broadcaster disconnected. */
  unpublish(): void {
    this.#requestStop({ kind: 'stopped' });
  }

  /** The node stops: hand the stream to another node, or end it here (`node_shutdown`). */
  close(reason: string, mode: 'handover' | 'end'): void {
    this.#requestStop(mode === 'handover' ? { kind: 'handover', reason } : { kind: 'shutdown', reason });
  }

  /** Another writer owns the stream now (the edge refused our announces, or the lease was lost). */
  fence(reason: string): void {
    this.#requestStop({ kind: 'fenced', reason });
  }

  /** A newer publish of this stream on this node was admitted. */
  supersede(): void {
    this.#requestStop({ kind: 'superseded' });
  }

  /** The first outcome asked for wins; the running step notices at its next await. */
  #requestStop(outcome: PublishOutcome): void {
    if (this.#outcome || this.#state === 'finishing' || this.#state === 'closed') return;
    this.#outcome = outcome;
    this.#stopped.abort();
    for (const wake of this.#stopWaiters.splice(0)) wake({ stop: outcome });
  }

  /** `promise`, unless an outcome is asked for first. */
  #until<T>(promise: Promise<T>): Promise<T | Stop> {
    if (this.#outcome) return Promise.resolve({ stop: this.#outcome });
    return Promise.race([promise, new Promise<Stop>((resolve) => this.#stopWaiters.push(resolve))]);
  }

  #step(step: PublishStep): void {
    this.#state = nextPublishState(this.#state, step);
  }

  async #runInner(): Promise<PublishOutcome> {
    const { publish, settings } = this.#d;
    const parsed = parseStreamKey(publish.streamKey);
    if (publish.app !== 'live' || !parsed) {
      return { kind: 'refused', code: 'stream_key_invalid', message: publish.app !== 'live' ? `unknown application '${publish.app}' (publish to /live/<streamKey>)` : 'malformed stream key' };
    }
    const streamId = parsed.streamId;
    this.#streamId = streamId;
    this.#log = this.#log.child({ streamId });
    this.#streamLog = this.#log;
    this.#log.info({ remoteAddress: publish.remoteAddress }, 'publish received');
    this.#untap = publish.tap((tag) => this.#onTag(tag));

    const probed = await this.#until(this.#admission.probed(settings.probeTimeoutMs));
    if (isStop(probed)) return probed.stop;
    this.#source = this.#admission.source();
    this.#step('probed');
    const earlier = await this.#until(this.#d.earlierPublishesDone(streamId));
    if (isStop(earlier)) return earlier.stop;

    const lease = await this.#until(this.#d.ownership.acquire(streamId, this.#d.takeoverFrom));
    if (isStop(lease)) return lease.stop;
    if (!lease.ok) return { kind: 'refused', code: lease.code, message: lease.message };
    this.#owned = true;
    this.#outbox = this.#d.outboxFor(streamId);
    const grant = await this.#askGrant(lease.previousEpoch);
    if ('kind' in grant) return grant;
    this.#d.claim(streamId);
    if (!(await this.#recordEpoch())) return { kind: 'fenced', reason: 'another node owns the stream lease now' };
    this.#plan = planLadder(grant.ladder, this.#source);
    this.#log.info({ source: this.#source, renditions: this.#plan.renditions }, 'publish accepted; transcoding');
    this.#timers.push(setInterval(() => void this.#sendHeartbeat(), settings.heartbeatMs));
    this.#timers.push(setInterval(() => this.#checkStall(), 500));
    await this.#startJob();
    publish.onLive?.(grant.epoch);

    for (;;) {
      const failed = await this.#until(new Promise<TranscoderFailure>((resolve) => (this.#failure = resolve)));
      if (isStop(failed)) return failed.stop;
      const decision = this.#restartPolicy.failed(Date.now());
      if (decision.action === 'give_up') return { kind: 'failed', failure: { ...failed, message: `${failed.message} (gave up after ${decision.restarts} restarts)` } };
      // Supervision: a new ffmpeg under a new epoch (a takeover of our own: new init,
      // EXT-X-DISCONTINUITY, MSNs go on), fed from the replay cache so it starts on a keyframe.
      this.#step('transcoder_failed');
      this.#log.warn({ failure: failed, restart: decision.attempt, delayMs: decision.delayMs }, 'transcoder failed; restarting it');
      this.#d.metrics.ffmpegRestarted();
      await this.#transcoder.stop(failed.message, this.#log); // its last segments go to the outbox first
      if (await sleepUnlessAborted(decision.delayMs, this.#stopped.signal)) return this.#outcome!;
      const next = await this.#askGrant(this.#grant!.epoch);
      if ('kind' in next) return next.kind === 'refused' ? { kind: 'failed', failure: { code: 'restart_refused', message: `${failed.message}; restart refused by the edge: ${next.message}` } } : next;
      if (!(await this.#recordEpoch())) return { kind: 'fenced', reason: 'another node owns the stream lease now' };
      await this.#startJob();
    }
  }

  /**
   * Asks the edge to admit this publish (a takeover of `previousEpoch` if set). An unreachable edge
   * is retried for `grantPatienceMs` while the publish is held (never transcoded before the key
   * is checked); the edge's refusal is final.
   */
  async #askGrant(previousEpoch: number | undefined): Promise<PublishGrant | PublishOutcome> {
    const { edge, settings, publish } = this.#d;
    const deadline = Date.now() + settings.grantPatienceMs;
    for (let attempt = 1; ; attempt++) {
      const minMsn = this.#outbox!.nextMsn;
      const asked = await this.#until(
        requestGrant(edge, publish.streamKey, settings.nodeId, this.#source!, previousEpoch, minMsn).then(
          (grant) => ({ grant }),
          (error: unknown) => ({ error }),
        ),
      );
      if (isStop(asked)) return asked.stop;
      if ('grant' in asked) {
        this.#grant = asked.grant;
        this.#log = this.#streamLog.child({ epoch: asked.grant.epoch });
        this.#step('granted');
        this.#outbox!.begin(asked.grant, planLadder(asked.grant.ladder, this.#source!), this.#source!, this.#log);
        return asked.grant;
      }
      const err = asked.error;
      if (isEdgeRefusal(err)) return { kind: 'refused', code: err.code, message: err.message };
      if (Date.now() >= deadline) return { kind: 'refused', code: 'upstream_failed', message: `the edge could not be asked to admit the publish: ${(err as Error).message}` };
      this.#log.warn({ attempt, err: (err as Error).message }, 'edge unreachable while admitting the publish; holding the publisher and retrying');
      if (await sleepUnlessAborted(Math.min(2000, 250 * attempt), this.#stopped.signal)) return this.#outcome!;
    }
  }

  /** Writes the DO-issued epoch into our lease (the fencing token the next owner replaces). */
  async #recordEpoch(): Promise<boolean> {
    try {
      return await this.#d.ownership.renew(this.#streamId!, this.#grant!.epoch);
    } catch (err) {
      this.#d.metrics.coordinatorError();
      this.#log.warn({ err: (err as Error).message }, 'could not renew the stream lease (coordinator unreachable); going on under the edge epoch');
      return true;
    }
  }

  /** Starts ffmpeg under the current grant, fed what was held before the verdict, else the replay cache. */
  async #startJob(): Promise<void> {
    this.#restartPolicy.started(Date.now());
    await this.#transcoder.start(this.#grant!, this.#plan!, this.#outbox!, this.#log, () => {
      const held = this.#admission.take();
      return held.length ? held : this.#replay.replay();
    });
  }

  #onTag(tag: Buffer): void {
    this.#ingestBytes += tag.length;
    this.#transcoder.fed(Date.now());
    this.#replay.push(tag);
    if (this.#state === 'live') {
      const queued = this.#transcoder.write(tag);
      if (queued > MAX_TRANSCODE_BACKLOG_BYTES) this.#failed({ code: 'input_backlog', message: `transcoder fell behind: ${queued} bytes of input queued`, queuedBytes: queued });
      return;
    }
    if ((this.#state === 'probing' || this.#state === 'authorizing') && this.#admission.push(tag) === 'over_limit') {
      this.#requestStop({ kind: 'refused', code: 'bad_request', message: 'too much data before the key was checked' });
    }
  }

  #failed(failure: TranscoderFailure): void {
    if (this.#state !== 'live') return;
    const report = this.#failure;
    this.#failure = undefined;
    report?.(failure);
  }

  /** ffmpeg stalled: fed within the stall window but no new frame for longer. */
  #checkStall(): void {
    if (this.#state !== 'live') return;
    const stalledMs = this.#transcoder.stalledFor(Date.now());
    if (stalledMs !== undefined) this.#failed({ code: 'ffmpeg_stalled', message: `ffmpeg made no progress for ${stalledMs} ms`, stalledMs });
  }

  /** Ingest health to the edge; its refusal fences the publish, its silence is an outage we ride out. */
  async #sendHeartbeat(): Promise<void> {
    if (this.#state !== 'live' || this.#heartbeatInFlight) return;
    this.#heartbeatInFlight = true;
    const metrics = ingestMetrics(this.#ingestBytes, this.#d.settings.heartbeatMs, this.#transcoder.progress);
    this.#ingestBytes = 0;
    this.#d.metrics.ingestBitrate(this.#streamId!, metrics.bitrateKbps);
    const grant = this.#grant!;
    try {
      if (!(await this.#recordEpoch())) return this.fence('another node owns the stream lease now');
      await this.#d.edge.heartbeat(this.#streamId!, { epoch: grant.epoch, metrics });
      if (this.#edgeFailures > 0) this.#log.info({ failedHeartbeats: this.#edgeFailures }, 'edge reachable again');
      this.#edgeFailures = 0;
    } catch (err) {
      if (grant !== this.#grant) return; // a restart replaced the epoch meanwhile
      if (isEdgeRefusal(err)) return this.fence(`edge refused: ${err.code}: ${err.message}`);
      this.#edgeFailures++;
      const signature = err instanceof EdgeliveError && err.code === 'unauthorized';
      if (this.#edgeFailures === 1 || this.#edgeFailures % 10 === 0) {
        this.#log.warn(
          { failedHeartbeats: this.#edgeFailures, err: (err as Error).message },
          signature ? 'edge refused the signature (clock skew or ORIGIN_SECRET mismatch); keeping the broadcast going' : 'edge unreachable; keeping the broadcast going',
        );
      }
    } finally {
      this.#heartbeatInFlight = false;
    }
  }

  /** The single exit: carries out `finishPlan(outcome)` once and logs the end with its reason. */
  async #finish(outcome: PublishOutcome): Promise<void> {
    const { publish, settings, ownership, metrics } = this.#d;
    this.#outcome ??= outcome;
    if (this.#state !== 'finishing') this.#step('outcome');
    for (const t of this.#timers) clearInterval(t);
    const plan = finishPlan(outcome, this.#grant !== undefined);
    const reason = describeOutcome(outcome);
    this.#untap?.();
    if (plan.disconnect) publish.reject(reason, plan.disconnect);
    if (this.#transcoder.started) {
      if (plan.transcoder === 'drain') await this.#transcoder.drain(settings.drainTimeoutMs);
      else if (plan.transcoder === 'stop') await this.#transcoder.stop(reason, this.#log);
      else if (plan.transcoder === 'kill') this.#transcoder.kill(reason);
    }
    const outbox = this.#outbox;
    if (outbox && plan.outbox === 'cancel') outbox.cancel(reason);
    if (outbox && plan.outbox === 'settle') await Promise.race([outbox.whenIdle(), new Promise((r) => setTimeout(r, settings.handoverSettleMs))]);
    if (plan.announceEnd && this.#grant) await this.#announceEnd(this.#grant, plan.announceEnd, outcome.kind === 'failed' ? outcome.failure.message : undefined);
    if (plan.releaseLease && this.#owned) await ownership.release(this.#streamId!);
    if (this.#streamId) metrics.ingestBitrate(this.#streamId, undefined);
    this.#admission.take(); // drop what was held before the verdict
    this.#step('finished');
    this.#log.info({ outcome: outcome.kind, reason, queuedBytes: outbox?.queuedBytes ?? 0 }, 'publish ended on this node');
  }

  /**
   * Tells the edge this epoch is over, with where the next epoch must start numbering. An edge that
   * cannot be reached is tried again in the background; a refusal (the epoch was replaced) is final.
   */
  async #announceEnd(grant: PublishGrant, reason: EndAnnounce['reason'], message: string | undefined): Promise<void> {
    const body: EndAnnounce = { epoch: grant.epoch, reason, nextMsn: this.#outbox?.nextMsn ?? grant.firstMsn, ...(message ? { message: message.slice(0, 500) } : {}) };
    const attempt = async (): Promise<boolean> => {
      try {
        await this.#d.edge.end(grant.streamId, body);
        return true;
      } catch (err) {
        if (isEdgeRefusal(err)) {
          this.#log.info({ code: err.code }, 'the edge did not take the end (the epoch was already replaced)');
          return true;
        }
        return false;
      }
    };
    if (await attempt()) return;
    this.#log.warn({ reason }, 'could not announce the end; retrying in the background');
    void (async () => {
      for (const delayMs of END_ANNOUNCE_RETRY_MS) {
        await new Promise((r) => setTimeout(r, delayMs));
        if (await attempt()) return this.#log.info({ reason }, 'end announced after the edge came back');
      }
      this.#log.error({ reason }, 'gave up announcing the end; the edge ends the stream when its window runs out');
    })();
  }
}

function isStop(value: unknown): value is Stop {
  return typeof value === 'object' && value !== null && 'stop' in value;
}
