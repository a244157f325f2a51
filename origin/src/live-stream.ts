import type { Logger } from 'pino';
import { EdgeliveError } from '../../shared/src/errors.ts';
import { parseStreamKey } from '../../shared/src/keys/stream-key.ts';
import type { PublishGrant } from '../../shared/src/schemas.ts';
import type { SourceInfo } from '../../shared/src/types.ts';
import type { EdgeClient } from './announce/edge-client.ts';
import { ingestMetrics, RenditionAnnouncer, renditionInfo, type AnnounceMetrics } from './announce/rendition-announcer.ts';
import type { StreamOwnership } from './cluster/lease-keeper.ts';
import { FlvReplayCache } from './ingest/flv-replay-cache.ts';
import { PublishAdmission, requestGrant } from './ingest/publish-admission.ts';
import type { IngestPublish } from './ingest/rtmp-ingest-server.ts';
import type { SegmentStore } from './store/segment-store.ts';
import { planLadder, type TranscodePlan } from './transcode/ladder-plan.ts';
import { RestartPolicy } from './transcode/restart-policy.ts';
import { Transcoder } from './transcode/transcoder.ts';


/** Lifecycle of one broadcast on this node. */
export type LiveStreamState = 'probing' | 'authorizing' | 'live' | 'restarting' | 'ending' | 'closed';

/** Counters and timings a live stream reports (implemented with prom-client by the node). */
export interface LiveStreamMetrics extends AnnounceMetrics {
  ingestBitrate(streamId: string, kbps: number | undefined): void;
  ffmpegRestarted(): void;
  coordinatorError(): void;
}

/** Settings a live stream takes from the node's configuration. */
export interface LiveStreamSettings {
  nodeId: string;
  ffmpegPath: string;
  x264Preset: string;
  socketDir: string;
  heartbeatMs: number;
  probeTimeoutMs: number;
  drainTimeoutMs: number;
  /** No new frame from a fed ffmpeg for this long counts as a failure. */
  stallMs: number;
  maxRestarts: number;
  restartBackoffMs: number;
  /** A transcoder running this long without failing resets the restart count. */
  healthyResetMs: number;
}

/** How a stream leaves this node without ending: the broadcast goes on elsewhere (or resumes). */
export type CloseMode = 'end' | 'handover';

/** ffmpeg input backlog at which the stream is declared unable to keep up. */
export const MAX_TRANSCODE_BACKLOG_BYTES = 64 * 1024 * 1024;

/**
 * One broadcast from RTMP publish to end: probes the codecs, asks the edge to admit the key, runs
 * ONE ffmpeg for the ladder, stores each init/segment and announces it only after the upload
 * succeeded, heartbeats ingest health, and announces the end.
 */
export class LiveStream {
  #state: LiveStreamState = 'probing';
  readonly #publish: IngestPublish;
  readonly #settings: LiveStreamSettings;
  readonly #edge: EdgeClient;
  readonly #store: SegmentStore;
  readonly #metrics: LiveStreamMetrics;
  readonly #ownership: StreamOwnership;
  readonly #takeoverFrom: string | undefined;
  #owned = false;
  readonly #replay = new FlvReplayCache();
  readonly #restartPolicy: RestartPolicy;
  readonly #transcoder: Transcoder;
  #watchdog: NodeJS.Timeout | undefined;
  #log: Logger;
  /** The stream's logger before any epoch is bound (each new epoch replaces the last one's). */
  #streamLog: Logger;
  readonly #onClosed: () => void;
  #streamId: string | undefined;
  #grant: PublishGrant | undefined;
  #plan: TranscodePlan | undefined;
  #source: SourceInfo | undefined;
  #untap: (() => void) | undefined;
  readonly #admission = new PublishAdmission();
  #announcer: RenditionAnnouncer | undefined;
  #ingestBytes = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #ending: Promise<void> | undefined;

  constructor(opts: {
    publish: IngestPublish;
    settings: LiveStreamSettings;
    edge: EdgeClient;
    store: SegmentStore;
    metrics: LiveStreamMetrics;
    ownership: StreamOwnership;
    /** A node this publish replaces because its relay broke (cluster takeover). */
    takeoverFrom?: string;
    logger: Logger;
    onClosed: () => void;
  }) {
    this.#ownership = opts.ownership;
    this.#takeoverFrom = opts.takeoverFrom;
    this.#publish = opts.publish;
    this.#settings = opts.settings;
    this.#edge = opts.edge;
    this.#store = opts.store;
    this.#metrics = opts.metrics;
    this.#onClosed = opts.onClosed;
    this.#log = opts.logger.child({ session: opts.publish.sessionId });
    this.#streamLog = this.#log;
    this.#restartPolicy = new RestartPolicy({ maxRestarts: opts.settings.maxRestarts, backoffMs: opts.settings.restartBackoffMs, healthyResetMs: opts.settings.healthyResetMs });
    const { ffmpegPath, x264Preset, socketDir, stallMs } = opts.settings;
    this.#transcoder = new Transcoder(
      { ffmpegPath, x264Preset, socketDir, stallMs },
      {
        onInit: (grant, rendition, bytes, info) => this.#announcer!.init(grant, renditionInfo(grant.epoch, rendition, info, this.#plan!, this.#source!), bytes),
        onSegment: (grant, rendition, segment) => this.#announcer!.segment(grant, rendition, segment),
        onFailed: (message) => {
          if (this.#state === 'live') void this.#restart(message);
        },
      },
    );
  }

  get state(): LiveStreamState {
    return this.#state;
  }

  /** The stream id once the key was parsed. */
  get streamId(): string | undefined {
    return this.#streamId;
  }

  /** Probes, authorizes and starts transcoding; refuses the publisher with a logged reason on any failure. */
  async start(): Promise<void> {
    const { streamKey, app, remoteAddress } = this.#publish;
    const parsed = parseStreamKey(streamKey);
    if (app !== 'live' || !parsed) {
      this.#refuse(app !== 'live' ? `unknown application '${app}' (publish to /live/<streamKey>)` : 'malformed stream key', 'stream_key_invalid');
      return;
    }
    this.#streamId = parsed.streamId;
    this.#log = this.#log.child({ streamId: parsed.streamId });
    this.#streamLog = this.#log;
    this.#log.info({ remoteAddress }, 'publish received');
    this.#announcer = new RenditionAnnouncer({
      streamId: parsed.streamId,
      edge: this.#edge,
      store: this.#store,
      metrics: this.#metrics,
      logger: () => this.#log,
      onError: (err, grant) => this.#onAnnounceError(err, grant),
    });

    this.#untap = this.#publish.tap((tag) => this.#onTag(tag));
    await this.#admission.probed(this.#settings.probeTimeoutMs);
    if (this.#state !== 'probing') return;

    this.#source = this.#admission.source();
    this.#state = 'authorizing';
    const lease = await this.#ownership.acquire(parsed.streamId, this.#takeoverFrom);
    if (!lease.ok) {
      this.#refuse(lease.message, lease.code);
      return;
    }
    this.#owned = true;
    try {
      this.#grant = await requestGrant(this.#edge, streamKey, this.#settings.nodeId, this.#source, lease.previousEpoch);
    } catch (err) {
      const code = err instanceof EdgeliveError ? err.code : 'upstream_failed';
      this.#refuse((err as Error).message, code);
      return;
    }
    await this.#recordEpoch();
    if ((this.#state as LiveStreamState) !== 'authorizing') {
      // The publisher left while the edge was admitting it: close what the grant opened.
      await this.#announceEnd('publisher_stopped');
      return;
    }
    this.#plan = planLadder(this.#grant.ladder, this.#source);
    this.#log = this.#streamLog.child({ epoch: this.#grant.epoch });
    this.#log.info({ source: this.#source, renditions: this.#plan.renditions }, 'publish accepted; transcoding');
    await this.#startJob();
    this.#publish.onLive?.(this.#grant.epoch);
    this.#heartbeat = setInterval(() => void this.#sendHeartbeat(), this.#settings.heartbeatMs);
    this.#watchdog = setInterval(() => this.#checkStall(), Math.min(1000, this.#settings.stallMs / 2));
  }

  /** Writes the DO-issued epoch into our lease (the fencing token the next owner replaces). */
  async #recordEpoch(): Promise<boolean> {
    try {
      const mine = await this.#ownership.renew(this.#streamId!, this.#grant!.epoch);
      if (!mine) this.#fenced('another node owns the stream lease now');
      return mine;
    } catch (err) {
      this.#metrics.coordinatorError();
      this.#log.warn({ err }, 'could not renew the stream lease (coordinator unreachable); going on under the edge epoch');
      return true;
    }
  }

  /** The broadcaster disconnected: drain ffmpeg, store and announce what remains, then end. */
  unpublish(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#ending ??= this.#endAfterDrain();
    return this.#ending;
  }

  async #endAfterDrain(): Promise<void> {
    const wasLive = this.#state === 'live';
    this.#state = 'ending';
    this.#untap?.();
    if (!wasLive) return this.#finish('publisher left before the stream went live');
    await this.#transcoder.drain(this.#settings.drainTimeoutMs);
    await this.#settle();
    await this.#announceEnd('publisher_stopped');
    this.#finish('publisher stopped');
  }

  /**
   * Stops everything now. `end` announces the end (`node_shutdown`); `handover` stops writing
   * without ending, after the uploads in flight settled, so another node can take the stream over
   * under a new epoch (relay lost, graceful shutdown).
   */
  async close(reason: string, mode: CloseMode = 'end'): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#ending) return this.#ending; // already ending on its own: let it finish announcing
    const wasLive = this.#state === 'live' || this.#state === 'restarting';
    this.#state = 'ending';
    this.#untap?.();
    this.#publish.reject(reason, mode === 'handover' ? 'handover' : undefined);
    // Store and announce what ffmpeg already produced before anything else happens to the stream.
    await this.#stopJob(reason);
    if (wasLive && mode === 'end') await this.#announceEnd('node_shutdown');
    this.#finish(reason);
  }

  #onTag(tag: Buffer): void {
    this.#ingestBytes += tag.length;
    this.#transcoder.fed(Date.now());
    this.#replay.push(tag);
    if (this.#state === 'restarting') return; // the next ffmpeg starts from the replay cache
    if (this.#state === 'live') {
      const queued = this.#transcoder.write(tag);
      if (queued > MAX_TRANSCODE_BACKLOG_BYTES) void this.#fail(`transcoder fell behind: ${queued} bytes of input queued`);
      return;
    }
    if (this.#state !== 'probing' && this.#state !== 'authorizing') return;
    if (this.#admission.push(tag) === 'over_limit') this.#refuse('too much data before the key was checked', 'bad_request');
  }

  /** Starts ffmpeg under the current grant, fed what was held before the verdict, else the replay cache. */
  async #startJob(): Promise<void> {
    this.#restartPolicy.started(Date.now());
    await this.#transcoder.start(this.#grant!, this.#plan!, this.#log, () => {
      const held = this.#admission.take();
      return held.length ? held : this.#replay.replay();
    });
    this.#state = 'live';
  }

  /** ffmpeg stalled: fed within the stall window but no new frame for longer. */
  #checkStall(): void {
    if (this.#state !== 'live') return;
    const stalledMs = this.#transcoder.stalledFor(Date.now());
    if (stalledMs !== undefined) void this.#restart(`ffmpeg made no progress for ${stalledMs} ms`);
  }

  /**
   * Supervision: the transcoder failed or stalled. Restart it with exponential backoff under a new
   * epoch (a takeover of our own epoch: new init segment, EXT-X-DISCONTINUITY, MSNs go on), fed
   * from the replay cache so it starts on a keyframe. After `maxRestarts` the stream fails.
   */
  async #restart(message: string): Promise<void> {
    if (this.#state !== 'live') return;
    const decision = this.#restartPolicy.failed(Date.now());
    if (decision.action === 'give_up') {
      await this.#fail(`${message} (gave up after ${decision.restarts} restarts)`);
      return;
    }
    this.#state = 'restarting';
    const { attempt, delayMs } = decision;
    this.#log.warn({ reason: message, restart: attempt, delayMs }, 'transcoder failed; restarting it');
    this.#metrics.ffmpegRestarted();
    // The old epoch's last segments are announced before the takeover makes that epoch stale.
    await this.#stopJob(message);
    await new Promise((r) => setTimeout(r, delayMs));
    if ((this.#state as LiveStreamState) !== 'restarting') return;
    try {
      this.#grant = await requestGrant(this.#edge, this.#publish.streamKey, this.#settings.nodeId, this.#source!, this.#grant!.epoch);
    } catch (err) {
      this.#state = 'live';
      await this.#fail(`${message}; restart refused by the edge: ${(err as Error).message}`);
      return;
    }
    this.#log = this.#streamLog.child({ epoch: this.#grant.epoch });
    if (!(await this.#recordEpoch())) return;
    if ((this.#state as LiveStreamState) !== 'restarting') return;
    await this.#startJob();
  }

  async #sendHeartbeat(): Promise<void> {
    if (this.#state !== 'live') return;
    const metrics = ingestMetrics(this.#ingestBytes, this.#settings.heartbeatMs, this.#transcoder.progress);
    this.#ingestBytes = 0;
    this.#metrics.ingestBitrate(this.#streamId!, metrics.bitrateKbps);
    const grant = this.#grant!;
    if (!(await this.#recordEpoch())) return;
    await this.#announcer!.heartbeat(grant, metrics);
  }

  /** An announce failed: a 4xx means the edge no longer wants this publish (ended, deleted, fenced). */
  async #onAnnounceError(err: unknown, grant: PublishGrant): Promise<void> {
    if (err instanceof EdgeliveError && err.status < 500) {
      // An announce of an epoch we already replaced ourselves (a restart) is expected to be stale.
      if (grant !== this.#grant) {
        this.#log.debug({ code: err.code, epoch: grant.epoch }, 'announce of a replaced epoch refused');
        return;
      }
      if (this.#state === 'live' || this.#state === 'restarting') this.#fenced(`edge refused: ${err.code}: ${err.message}`);
      return;
    }
    this.#log.error({ err }, 'store or announce failed after retries; segment skipped');
  }

  /** Another writer owns the stream now: stop at once, announce nothing. */
  #fenced(reason: string): void {
    if (this.#state === 'closed' || this.#state === 'ending') return;
    this.#log.warn({ reason }, 'this node no longer owns the stream; stopping this publish');
    this.#state = 'ending';
    this.#owned = false; // the lease is someone else's: do not release it
    this.#untap?.();
    this.#publish.reject(reason, 'fenced');
    this.#transcoder.kill(reason);
    this.#finish(reason);
  }

  async #fail(message: string): Promise<void> {
    if (this.#state !== 'live') return;
    this.#state = 'ending';
    this.#log.error({ reason: message }, 'transcode failed');
    this.#untap?.();
    this.#publish.reject(message, 'transcoder_failed');
    await this.#stopJob(message);
    await this.#announceEnd('transcoder_failed', message);
    this.#finish(message);
  }

  async #settle(): Promise<void> {
    await this.#announcer?.settle();
  }

  /** Kills ffmpeg, waits (bounded) for its last segments, and settles their uploads and announces. */
  async #stopJob(reason: string): Promise<void> {
    if (!this.#transcoder.started) return;
    await this.#transcoder.stop(reason, this.#log);
    await this.#settle();
  }

  async #announceEnd(reason: 'publisher_stopped' | 'transcoder_failed' | 'node_shutdown', message?: string): Promise<void> {
    await this.#announcer!.end(this.#grant!, reason, message);
  }

  #refuse(reason: string, code: string): void {
    if (this.#state === 'closed') return;
    this.#log.warn({ code, reason, streamKeyPrefix: this.#publish.streamKey.slice(0, 16) }, 'publish refused');
    this.#untap?.();
    this.#publish.reject(reason, code);
    this.#finish(`refused: ${code}`);
  }

  #finish(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearInterval(this.#heartbeat);
    clearInterval(this.#watchdog);
    if (this.#owned) {
      this.#owned = false;
      void this.#ownership.release(this.#streamId!);
    }
    if (this.#streamId) this.#metrics.ingestBitrate(this.#streamId, undefined);
    this.#admission.take(); // drop what was held before the verdict
    this.#log.info({ reason }, 'stream closed on this node');
    this.#onClosed();
  }
}
