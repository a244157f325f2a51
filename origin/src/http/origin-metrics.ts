import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OutboxMetrics } from '../announce/stream-outbox.ts';
import type { PublishRunMetrics } from '../publish/publish-run.ts';

/** The origin's Prometheus metrics, on a registry of its own (one per node, so tests can run several). */
export class OriginMetrics implements PublishRunMetrics, OutboxMetrics {
  readonly registry = new Registry();
  readonly uploadQueueBytes = new Gauge({ name: 'edgelive_upload_queue_bytes', help: 'Bytes of media made on this node and waiting for the object store (all streams)', registers: [this.registry] });
  readonly segmentsDroppedTotal = new Counter({
    name: 'edgelive_segments_dropped_total',
    help: 'Segments given up before storage and listed as gaps: upload queue over its cap, or refused by the store',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly #backlogByStream = new Map<string, number>();
  readonly activeStreams = new Gauge({ name: 'edgelive_active_streams', help: 'Streams this node is transcoding', registers: [this.registry] });
  readonly publishRefusals = new Counter({ name: 'edgelive_publish_refusals_total', help: 'Publishes refused, by reason code', labelNames: ['code'], registers: [this.registry] });
  readonly ffmpegRestarts = new Counter({ name: 'edgelive_ffmpeg_restarts_total', help: 'ffmpeg processes restarted after a failure', registers: [this.registry] });
  readonly segmentsStored = new Counter({ name: 'edgelive_segments_stored_total', help: 'Media segments uploaded', labelNames: ['rendition'], registers: [this.registry] });
  readonly bytesStored = new Counter({ name: 'edgelive_segment_bytes_stored_total', help: 'Bytes of media segments uploaded', registers: [this.registry] });
  readonly uploadSeconds = new Histogram({
    name: 'edgelive_segment_upload_seconds',
    help: 'Time to upload one segment to the object store',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly pipelineDelaySeconds = new Histogram({
    name: 'edgelive_segment_pipeline_delay_seconds',
    help: "From a segment's last frame (wall clock) to its announce being accepted by the edge",
    buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10],
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({ name: 'edgelive_redis_errors_total', help: 'Coordinator (Redis) calls or connections that failed', registers: [this.registry] });
  readonly relays = new Gauge({ name: 'edgelive_relays_active', help: 'Publishes this node ingests and relays to another node for transcoding', registers: [this.registry] });
  readonly ingestKbps = new Gauge({ name: 'edgelive_ingest_bitrate_kbps', help: 'Bitrate arriving from the broadcaster', labelNames: ['stream'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'edgelive_origin_' });
  }

  segmentStored(rendition: string, bytes: number, uploadMs: number): void {
    this.segmentsStored.inc({ rendition });
    this.bytesStored.inc(bytes);
    this.uploadSeconds.observe(uploadMs / 1000);
  }

  uploadBacklog(streamId: string, bytes: number | undefined): void {
    if (bytes === undefined) this.#backlogByStream.delete(streamId);
    else this.#backlogByStream.set(streamId, bytes);
    let total = 0;
    for (const b of this.#backlogByStream.values()) total += b;
    this.uploadQueueBytes.set(total);
  }

  segmentsDropped(count: number, reason: 'queue_full' | 'store_rejected'): void {
    this.segmentsDroppedTotal.inc({ reason }, count);
  }

  segmentAnnounced(delayMs: number): void {
    this.pipelineDelaySeconds.observe(Math.max(0, delayMs) / 1000);
  }

  ffmpegRestarted(): void {
    this.ffmpegRestarts.inc();
  }

  coordinatorError(): void {
    this.redisErrors.inc();
  }

  ingestBitrate(streamId: string, kbps: number | undefined): void {
    if (kbps === undefined) this.ingestKbps.remove({ stream: streamId });
    else this.ingestKbps.set({ stream: streamId }, kbps);
  }
}
