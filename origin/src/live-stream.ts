import type { Logger } from 'pino';
import { EdgeliveError } from '../../shared/src/errors.ts';
import { initFileName, mediaObjectKey, segmentFileName } from '../../shared/src/internal-api.ts';
import { parseStreamKey } from '../../shared/src/keys/stream-key.ts';
import type { PublishGrant } from '../../shared/src/schemas.ts';
import type { SourceInfo } from '../../shared/src/types.ts';
import type { EdgeClient } from './announce/edge-client.ts';
import { FlvMediaProbe } from './ingest/flv-media-probe.ts';
import { pictureSizeFromSps } from './ingest/sps-picture-size.ts';
import type { IngestPublish } from './ingest/rtmp-ingest-server.ts';
import { codecsAttribute, type InitInfo } from './package/fmp4-init-info.ts';
import type { PackagedSegment } from './package/rendition-segmenter.ts';
import { cacheControlFor, contentTypeFor } from './store/media-headers.ts';
import type { SegmentStore } from './store/segment-store.ts';
import { FfmpegJob } from './transcode/ffmpeg-job.ts';
import { planLadder, type TranscodePlan } from './transcode/ladder-plan.ts';
import type { TranscodeProgress } from './transcode/progress-parser.ts';

/** Lifecycle of one broadcast on this node. */
export type LiveStreamState = 'probing' | 'authorizing' | 'live' | 'ending' | 'closed';

/** Counters and timings a live stream reports (implemented with prom-client by the node). */
export interface LiveStreamMetrics {
  segmentStored(rendition: string, bytes: number, uploadMs: number): void;
  segmentAnnounced(delayMs: number): void;
  ingestBitrate(streamId: string, kbps: number | undefined): void;
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
}

/** FLV held while the key is checked; a publisher sending more before the verdict is refused. */
export const MAX_PREAUTH_BUFFER_BYTES = 16 * 1024 * 1024;
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
  #log: Logger;
  readonly #onClosed: () => void;
  #streamId: string | undefined;
  #grant: PublishGrant | undefined;
  #plan: TranscodePlan | undefined;
  #job: FfmpegJob | undefined;
  #source: SourceInfo | undefined;
  #untap: (() => void) | undefined;
  #preauth: Buffer[] = [];
  #preauthBytes = 0;
  #ingestBytes = 0;
  #progress: TranscodeProgress | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #ending: Promise<void> | undefined;
  /** Per-rendition chain: uploads and announces of one rendition stay in order. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(opts: {
    publish: IngestPublish;
    settings: LiveStreamSettings;
    edge: EdgeClient;
    store: SegmentStore;
    metrics: LiveStreamMetrics;
    logger: Logger;
    onClosed: () => void;
  }) {
    this.#publish = opts.publish;
    this.#settings = opts.settings;
    this.#edge = opts.edge;
    this.#store = opts.store;
    this.#metrics = opts.metrics;
    this.#onClosed = opts.onClosed;
    this.#log = opts.logger.child({ session: opts.publish.sessionId });
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
    this.#log.info({ remoteAddress }, 'publish received');

    const probe = new FlvMediaProbe();
    let probed: () => void = () => {};
    const probeDone = new Promise<void>((resolve) => (probed = resolve));
    this.#untap = this.#publish.tap((tag) => this.#onTag(tag, probe, probed));
    const timer = setTimeout(probed, this.#settings.probeTimeoutMs);
    await probeDone;
    clearTimeout(timer);
    if (this.#state !== 'probing') return;

    this.#source = sourceFrom(probe);
    this.#state = 'authorizing';
    try {
      this.#grant = await this.#edge.publish({ streamKey, nodeId: this.#settings.nodeId, source: this.#source });
    } catch (err) {
      const code = err instanceof EdgeliveError ? err.code : 'upstream_failed';
      this.#refuse((err as Error).message, code);
      return;
    }
    if ((this.#state as LiveStreamState) !== 'authorizing') {
      // The publisher left while the edge was admitting it: close what the grant opened.
      await this.#announceEnd('publisher_stopped');
      return;
    }
    this.#plan = planLadder(this.#grant.ladder, this.#source);
    this.#log = this.#log.child({ epoch: this.#grant.epoch });
    this.#log.info({ source: this.#source, renditions: this.#plan.renditions }, 'publish accepted; transcoding');
    await this.#startJob();
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
    await this.#job?.drain(this.#settings.drainTimeoutMs);
    await this.#settle();
    await this.#announceEnd('publisher_stopped');
    this.#finish('publisher stopped');
  }

  /** Stops everything now (node shutdown or a fenced-off owner). */
  async close(reason: string): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#ending) return this.#ending; // already ending on its own: let it finish announcing
    const wasLive = this.#state === 'live';
    this.#state = 'ending';
    this.#untap?.();
    this.#publish.reject(reason);
    this.#job?.close(reason);
    if (wasLive) await this.#announceEnd('node_shutdown');
    this.#finish(reason);
  }

  #onTag(tag: Buffer, probe: FlvMediaProbe, probed: () => void): void {
    this.#ingestBytes += tag.length;
    if (this.#state === 'live') {
      const input = this.#job!.input;
      input.write(tag);
      if (input.writableLength > MAX_TRANSCODE_BACKLOG_BYTES) void this.#fail(`transcoder fell behind: ${input.writableLength} bytes of input queued`);
      return;
    }
    if (this.#state !== 'probing' && this.#state !== 'authorizing') return;
    probe.push(tag);
    this.#preauth.push(tag);
    this.#preauthBytes += tag.length;
    if (this.#preauthBytes > MAX_PREAUTH_BUFFER_BYTES) this.#refuse('too much data before the key was checked', 'bad_request');
    else if (probe.complete) probed();
  }

  async #startJob(): Promise<void> {
    const grant = this.#grant!;
    const job = new FfmpegJob({
      jobId: `${grant.streamId}-${grant.epoch}`,
      ffmpegPath: this.#settings.ffmpegPath,
      plan: this.#plan!,
      segmentSeconds: grant.segmentSeconds,
      firstMsn: grant.firstMsn,
      preset: this.#settings.x264Preset,
      socketDir: this.#settings.socketDir,
      logger: this.#log,
      events: {
        onInit: (rendition, bytes, info) => this.#enqueue(rendition, () => this.#storeInit(rendition, bytes, info)),
        onSegment: (rendition, segment) => this.#enqueue(rendition, () => this.#storeSegment(rendition, segment)),
        onProgress: (p) => (this.#progress = p),
        onExit: ({ error }) => {
          if (error && this.#state === 'live') void this.#fail(error.message);
        },
      },
    });
    this.#job = job;
    await job.start();
    this.#state = 'live';
    for (const tag of this.#preauth) job.input.write(tag);
    this.#preauth = [];
    this.#heartbeat = setInterval(() => void this.#sendHeartbeat(), this.#settings.heartbeatMs);
  }

  #enqueue(rendition: string, work: () => Promise<void>): void {
    const previous = this.#chains.get(rendition) ?? Promise.resolve();
    this.#chains.set(
      rendition,
      previous.then(work).catch((err: unknown) => this.#onAnnounceError(err)),
    );
  }

  async #storeInit(rendition: string, bytes: Uint8Array, info: InitInfo): Promise<void> {
    const grant = this.#grant!;
    const file = initFileName(grant.epoch);
    await this.#store.put(mediaObjectKey(grant.streamId, rendition, file), bytes, { contentType: contentTypeFor(file), cacheControl: cacheControlFor(file) });
    const video = info.tracks.find((t) => t.kind === 'video');
    const planned = this.#plan!.renditions.find((r) => r.name === rendition)!;
    await this.#edge.announceRendition(grant.streamId, {
      epoch: grant.epoch,
      rendition: {
        name: rendition,
        width: video?.width || this.#source!.width,
        height: video?.height || planned.height,
        codecs: codecsAttribute(info),
        frameRate: this.#source!.fps,
        declaredBandwidth: ((planned.passthrough && this.#source!.videoKbps ? this.#source!.videoKbps : planned.videoKbps) + this.#plan!.audioKbps) * 1000,
        initFile: file,
      },
    });
  }

  async #storeSegment(rendition: string, segment: PackagedSegment): Promise<void> {
    const grant = this.#grant!;
    const file = segmentFileName(segment.msn);
    const started = performance.now();
    await this.#store.put(mediaObjectKey(grant.streamId, rendition, file), segment.bytes, { contentType: contentTypeFor(file), cacheControl: cacheControlFor(file) });
    this.#metrics.segmentStored(rendition, segment.bytes.length, performance.now() - started);
    await this.#edge.announceSegments(grant.streamId, {
      epoch: grant.epoch,
      segments: [{ rendition, msn: segment.msn, duration: segment.duration, programDateTime: segment.programDateTime, file, bytes: segment.bytes.length }],
    });
    this.#metrics.segmentAnnounced(Date.now() - (segment.programDateTime + segment.duration * 1000));
  }

  async #sendHeartbeat(): Promise<void> {
    if (this.#state !== 'live') return;
    const seconds = this.#settings.heartbeatMs / 1000;
    const bitrateKbps = Math.round((this.#ingestBytes * 8) / 1000 / seconds);
    this.#ingestBytes = 0;
    this.#metrics.ingestBitrate(this.#streamId!, bitrateKbps);
    const p = this.#progress;
    try {
      await this.#edge.heartbeat(this.#streamId!, {
        epoch: this.#grant!.epoch,
        metrics: { bitrateKbps, fps: p?.fps ?? 0, speed: p?.speed ?? 0, droppedFrames: Math.round(p?.droppedFrames ?? 0) },
      });
    } catch (err) {
      await this.#onAnnounceError(err);
    }
  }

  /** An announce failed: a 4xx means the edge no longer wants this publish (ended, deleted, fenced). */
  async #onAnnounceError(err: unknown): Promise<void> {
    if (err instanceof EdgeliveError && err.status < 500) {
      if (this.#state === 'live') {
        this.#log.warn({ code: err.code, reason: err.message }, 'edge refused an announce; stopping this publish');
        this.#state = 'ending';
        this.#untap?.();
        this.#publish.reject(err.message);
        this.#job?.close(err.message);
        this.#finish(`edge refused: ${err.code}`);
      }
      return;
    }
    this.#log.error({ err }, 'store or announce failed after retries; segment skipped');
  }

  async #fail(message: string): Promise<void> {
    if (this.#state !== 'live') return;
    this.#state = 'ending';
    this.#log.error({ reason: message }, 'transcode failed');
    this.#untap?.();
    this.#job?.close(message);
    this.#publish.reject(message);
    await this.#announceEnd('transcoder_failed', message);
    this.#finish(message);
  }

  async #settle(): Promise<void> {
    await Promise.all(this.#chains.values());
  }

  async #announceEnd(reason: 'publisher_stopped' | 'transcoder_failed' | 'node_shutdown', message?: string): Promise<void> {
    try {
      await this.#edge.end(this.#streamId!, { epoch: this.#grant!.epoch, reason, ...(message ? { message: message.slice(0, 500) } : {}) });
    } catch (err) {
      this.#log.warn({ err }, 'could not announce the end; the edge will notice the silence');
    }
  }

  #refuse(reason: string, code: string): void {
    if (this.#state === 'closed') return;
    this.#log.warn({ code, reason, streamKeyPrefix: this.#publish.streamKey.slice(0, 16) }, 'publish refused');
    this.#untap?.();
    this.#publish.reject(reason);
    this.#finish(`refused: ${code}`);
  }

  #finish(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearInterval(this.#heartbeat);
    if (this.#streamId) this.#metrics.ingestBitrate(this.#streamId, undefined);
    this.#preauth = [];
    this.#log.info({ reason }, 'stream closed on this node');
    this.#onClosed();
  }
}

/** What the origin tells the edge about a source, from the probe's headers and metadata. */
function sourceFrom(probe: FlvMediaProbe): SourceInfo {
  const r = probe.result();
  const size = (r.metadata?.width && r.metadata.height ? r.metadata : undefined) ?? (r.avcSps ? pictureSizeFromSps(r.avcSps) : undefined);
  return {
    videoCodec: r.videoCodec,
    audioCodec: r.audioCodec,
    width: size?.width ?? 0,
    height: size?.height ?? 0,
    fps: r.metadata?.fps ?? 0,
    videoKbps: r.metadata?.videoKbps ?? 0,
  };
}
