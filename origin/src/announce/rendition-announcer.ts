import type { Logger } from 'pino';
import { initFileName, mediaObjectKey, segmentFileName } from '../../../shared/src/internal-api.ts';
import type { EndAnnounce, PublishGrant } from '../../../shared/src/schemas.ts';
import type { IngestMetrics, RenditionInfo, SourceInfo } from '../../../shared/src/types.ts';
import { codecsAttribute, type InitInfo } from '../package/fmp4-init-info.ts';
import type { PackagedSegment } from '../package/rendition-segmenter.ts';
import { cacheControlFor, contentTypeFor } from '../store/media-headers.ts';
import type { SegmentStore } from '../store/segment-store.ts';
import { SegmentStoreError } from '../store/segment-store-error.ts';
import type { TranscodePlan } from '../transcode/ladder-plan.ts';
import type { TranscodeProgress } from '../transcode/progress-parser.ts';
import type { EdgeClient } from './edge-client.ts';

/** Counters the announcer reports (part of the live stream's metrics). */
export interface AnnounceMetrics {
  segmentStored(rendition: string, bytes: number, uploadMs: number): void;
  segmentAnnounced(delayMs: number): void;
  /** A store call failed for good (after its retries); `code` is the SegmentStoreError code. */
  segmentStoreFailed?(code: string): void;
}

/**
 * Store → announce for one stream on this node: each init segment and segment is uploaded, then
 * announced, in order per rendition (never advertise what is not stored); plus the heartbeat and
 * end calls. A failed store or announce goes to `onError` with the grant it was made under.
 */
export class RenditionAnnouncer {
  readonly #streamId: string;
  readonly #edge: EdgeClient;
  readonly #store: SegmentStore;
  readonly #metrics: AnnounceMetrics;
  readonly #log: () => Logger;
  readonly #onError: (err: unknown, grant: PublishGrant) => Promise<void>;
  /** Per-rendition chain: uploads and announces of one rendition stay in order. */
  readonly #chains = new Map<string, Promise<void>>();

  /** `logger` is read at each use: the stream's logger changes with each epoch. */
  constructor(opts: { streamId: string; edge: EdgeClient; store: SegmentStore; metrics: AnnounceMetrics; logger: () => Logger; onError: (err: unknown, grant: PublishGrant) => Promise<void> }) {
    this.#streamId = opts.streamId;
    this.#edge = opts.edge;
    this.#store = opts.store;
    this.#metrics = opts.metrics;
    this.#log = opts.logger;
    this.#onError = opts.onError;
  }

  /** Queues a rendition's init segment: stored as `init-<epoch>.mp4`, then announced. */
  init(grant: PublishGrant, rendition: RenditionInfo, bytes: Uint8Array): void {
    this.#enqueue(rendition.name, grant, async () => {
      const file = rendition.initFile;
      await this.#store.put(mediaObjectKey(grant.streamId, rendition.name, file), bytes, { contentType: contentTypeFor(file), cacheControl: cacheControlFor(file) });
      await this.#edge.announceRendition(grant.streamId, { epoch: grant.epoch, rendition });
    });
  }

  /** Queues a segment: stored as `seg-<msn>.m4s`, then announced, after the rendition's earlier work. */
  segment(grant: PublishGrant, rendition: string, segment: PackagedSegment): void {
    this.#enqueue(rendition, grant, async () => {
      const file = segmentFileName(segment.msn);
      const started = performance.now();
      await this.#store.put(mediaObjectKey(grant.streamId, rendition, file), segment.bytes, { contentType: contentTypeFor(file), cacheControl: cacheControlFor(file) });
      this.#metrics.segmentStored(rendition, segment.bytes.length, performance.now() - started);
      await this.#edge.announceSegments(grant.streamId, {
        epoch: grant.epoch,
        segments: [{ rendition, msn: segment.msn, duration: segment.duration, programDateTime: segment.programDateTime, file, bytes: segment.bytes.length }],
      });
      this.#metrics.segmentAnnounced(Date.now() - (segment.programDateTime + segment.duration * 1000));
    });
  }

  /** Resolves when everything queued so far was stored and announced (or failed). */
  async settle(): Promise<void> {
    await Promise.all(this.#chains.values());
  }

  /** Sends the ingest health under `grant`'s epoch; a failure goes to `onError`. */
  async heartbeat(grant: PublishGrant, metrics: IngestMetrics): Promise<void> {
    try {
      await this.#edge.heartbeat(this.#streamId, { epoch: grant.epoch, metrics });
    } catch (err) {
      await this.#onError(err, grant);
    }
  }

  /** Announces the end of `grant`'s epoch; a failure is logged (the edge will notice the silence). */
  async end(grant: PublishGrant, reason: EndAnnounce['reason'], message?: string): Promise<void> {
    try {
      await this.#edge.end(this.#streamId, { epoch: grant.epoch, reason, ...(message ? { message: message.slice(0, 500) } : {}) });
    } catch (err) {
      this.#log().warn({ err }, 'could not announce the end; the edge will notice the silence');
    }
  }

  #enqueue(rendition: string, grant: PublishGrant, work: () => Promise<void>): void {
    const previous = this.#chains.get(rendition) ?? Promise.resolve();
    this.#chains.set(
      rendition,
      previous.then(work).catch((err: unknown) => {
        if (err instanceof SegmentStoreError) this.#metrics.segmentStoreFailed?.(err.code);
        return this.#onError(err, grant);
      }),
    );
  }
}

/** What the edge is told about a rendition, from its init segment, the plan and the source. */
export function renditionInfo(epoch: number, rendition: string, info: InitInfo, plan: TranscodePlan, source: SourceInfo): RenditionInfo {
  const video = info.tracks.find((t) => t.kind === 'video');
  const planned = plan.renditions.find((r) => r.name === rendition)!;
  return {
    name: rendition,
    width: video?.width || source.width,
    height: video?.height || planned.height,
    codecs: codecsAttribute(info),
    frameRate: source.fps,
    declaredBandwidth: ((planned.passthrough && source.videoKbps ? source.videoKbps : planned.videoKbps) + plan.audioKbps) * 1000,
    initFile: initFileName(epoch),
  };
}

/** Ingest health for a heartbeat: the bitrate of the bytes received in one period, and ffmpeg's progress. */
export function ingestMetrics(ingestBytes: number, periodMs: number, progress: TranscodeProgress | undefined): IngestMetrics {
  return {
    bitrateKbps: Math.round((ingestBytes * 8) / 1000 / (periodMs / 1000)),
    fps: progress?.fps ?? 0,
    speed: progress?.speed ?? 0,
    droppedFrames: Math.round(progress?.droppedFrames ?? 0),
  };
}
