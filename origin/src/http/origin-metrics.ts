import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OutboxMetrics } from '../announce/stream-outbox.ts';
import type { PublishRunMetrics } from '../publish/publish-run.ts';
import { childCpuSeconds } from './child-cpu.ts';

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
  readonly partAnnounceSeconds = new Histogram({
    name: 'edgelive_part_announce_seconds',
    help: 'From an LL-HLS part cut from ffmpeg output to its announce being accepted by the edge (listed)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1],
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

  /** An LL-HLS part's announce was accepted `delayMs` after the origin cut it from ffmpeg's output. */
  partAnnounced(delayMs: number): void {
    this.partAnnounceSeconds.observe(Math.max(0, delayMs) / 1000);
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

  // ── Operations (issue 12): seed metric names, alert inputs. Keep this block last in the class. ──

  readonly uploadFailures = new Counter({
    name: 'edgelive_segment_upload_failures_total',
    help: 'Init segment and segment uploads that failed after the store retries, by store error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly nodeCapacity = new Gauge({ name: 'edgelive_node_capacity_streams', help: 'Streams this node may transcode at once (NODE_CAPACITY)', registers: [this.registry] });
  readonly nodeReady: Gauge = new Gauge({
    name: 'edgelive_node_ready',
    help: 'Whether this node takes new publishes (1), as /readyz answers; 0 while starting or draining',
    registers: [this.registry],
    collect: (): void => this.nodeReady.set(this.#ready() ? 1 : 0),
  });
  /** The seeds' name for streams transcoding here: the same value as edgelive_active_streams. */
  readonly seedActiveStreams: Gauge = new Gauge({
    name: 'livestream_active_streams_total',
    help: 'Streams this node is transcoding (same as edgelive_active_streams)',
    registers: [this.registry],
    collect: async (): Promise<void> => this.seedActiveStreams.set(await total(this.activeStreams)),
  });
  /** The seeds' error counter: this node's failure counters summed under one bounded `type` label. */
  readonly seedErrors: Counter = new Counter({
    name: 'livestream_errors_total',
    help: 'Failures on this node by type: publish_refused, ffmpeg_restart, redis, upload',
    labelNames: ['type'],
    registers: [this.registry],
    collect: async (): Promise<void> => {
      const sources = { publish_refused: this.publishRefusals, ffmpeg_restart: this.ffmpegRestarts, redis: this.redisErrors, upload: this.uploadFailures };
      const totals = await Promise.all(Object.entries(sources).map(async ([type, metric]) => [type, await total(metric)] as const));
      this.seedErrors.reset();
      for (const [type, value] of totals) this.seedErrors.inc({ type }, value);
    },
  });
  /** ffmpeg's CPU, which the process metrics leave out: with them, the CPU a stream costs. */
  readonly childCpu: Counter = new Counter({
    name: 'edgelive_ffmpeg_cpu_seconds_total',
    help: "CPU seconds used by this node's child processes (the ffmpegs), running and exited",
    registers: [this.registry],
    collect: (): void => {
      this.childCpu.reset();
      this.childCpu.inc(childCpuSeconds());
    },
  });
  #ready: () => boolean = () => false;

  /** The node this registry describes: its capacity, and how to ask whether it is ready. */
  watchNode(node: { capacity: number; ready: () => boolean }): void {
    this.nodeCapacity.set(node.capacity);
    this.#ready = node.ready;
  }

  /** An upload to the object store failed for good (the stream's error path handles the rest). */
  segmentStoreFailed(code: string): void {
    this.uploadFailures.inc({ code });
  }
}

/** The sum of a metric's values over all its label sets. */
async function total(metric: Counter | Gauge): Promise<number> {
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}
