import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { HttpEdgeClient, type EdgeClient } from './announce/edge-client.ts';
import type { OriginConfig } from './config.ts';
import { OriginHttpServer } from './http/origin-http-server.ts';
import { OriginMetrics } from './http/origin-metrics.ts';
import { RtmpIngestServer, type IngestPublish } from './ingest/rtmp-ingest-server.ts';
import { LiveStream } from './live-stream.ts';
import { S3SegmentStore } from './store/s3-segment-store.ts';
import type { SegmentStore } from './store/segment-store.ts';
import { resolveFfmpeg, type FfmpegBinary } from './transcode/ffmpeg-binary.ts';

/** Lifecycle of an origin node. */
export type OriginNodeState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Collaborators a node can be given instead of building its own (tests, embedding). */
export interface OriginNodeDeps {
  logger?: Logger;
  edge?: EdgeClient;
  store?: SegmentStore;
}

/**
 * One origin node: RTMP ingest, a LiveStream per publish (probe → admit → transcode → package →
 * store → announce), and its own HTTP for health, metrics and origin-pull.
 */
export class OriginNode {
  #state: OriginNodeState = 'idle';
  readonly #config: OriginConfig;
  readonly #log: Logger;
  readonly #edge: EdgeClient;
  readonly #store: SegmentStore;
  readonly #metrics = new OriginMetrics();
  readonly #streams = new Map<string, LiveStream>();
  readonly #workDir: string;
  readonly #ownsWorkDir: boolean;
  #ffmpeg: FfmpegBinary | undefined;
  #ingest: RtmpIngestServer | undefined;
  #http: OriginHttpServer | undefined;

  constructor(config: OriginConfig, deps: OriginNodeDeps = {}) {
    this.#config = config;
    this.#log = (deps.logger ?? pino({ level: config.logLevel, base: { nodeId: config.nodeId } })).child({ component: 'origin' });
    this.#edge = deps.edge ?? new HttpEdgeClient({ baseUrl: config.edgeUrl, secret: config.originSecret });
    this.#store =
      deps.store ??
      new S3SegmentStore({ ...config.s3, uploadConcurrency: config.uploadConcurrency });
    this.#ownsWorkDir = !config.workDir;
    this.#workDir = config.workDir ?? join(tmpdir(), `edgelive-origin-${config.nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}`);
  }

  get state(): OriginNodeState {
    return this.#state;
  }

  /** The ffmpeg in use (after start). */
  get ffmpeg(): FfmpegBinary | undefined {
    return this.#ffmpeg;
  }

  /** Ids of the streams this node is transcoding. */
  streamIds(): string[] {
    return [...this.#streams.values()].filter((s) => s.state === 'live').map((s) => s.streamId!);
  }

  /** The HTTP port actually bound. */
  get httpPort(): number {
    return this.#http?.port ?? this.#config.httpPort;
  }

  /** Resolves ffmpeg, then starts HTTP and RTMP. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`origin node already ${this.#state}`);
    this.#state = 'starting';
    this.#ffmpeg = resolveFfmpeg(this.#config.ffmpegPath);
    this.#log.info({ ffmpeg: this.#ffmpeg.path, source: this.#ffmpeg.source }, `using ffmpeg from ${this.#ffmpeg.source}`);
    mkdirSync(this.#workDir, { recursive: true });
    this.#http = new OriginHttpServer({
      host: this.#config.bindHost,
      port: this.#config.httpPort,
      status: { nodeId: this.#config.nodeId, ready: () => this.#state === 'running', streamIds: () => this.streamIds() },
      metrics: this.#metrics,
      store: this.#store,
      logger: this.#log,
    });
    await this.#http.start();
    this.#ingest = new RtmpIngestServer({
      host: this.#config.bindHost,
      port: this.#config.rtmpPort,
      workDir: this.#workDir,
      logger: this.#log,
      events: { onPublish: (p) => this.#onPublish(p), onUnpublish: (id) => void this.#streams.get(id)?.unpublish() },
    });
    await this.#ingest.start();
    this.#state = 'running';
  }

  /** Ends every stream on this node, then stops listening. */
  async stop(reason: string): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    await Promise.all([...this.#streams.values()].map((s) => s.close(reason)));
    await this.#ingest?.close(reason);
    await this.#http?.close(reason);
    await this.#store.close(reason);
    if (this.#ownsWorkDir) rmSync(this.#workDir, { recursive: true, force: true });
    this.#state = 'stopped';
    this.#log.info({ reason }, 'origin node stopped');
  }

  #onPublish(publish: IngestPublish): void {
    if (this.#state !== 'running') {
      publish.reject('origin node is shutting down');
      return;
    }
    const stream = new LiveStream({
      publish,
      settings: {
        nodeId: this.#config.nodeId,
        ffmpegPath: this.#ffmpeg!.path,
        x264Preset: this.#config.x264Preset,
        socketDir: this.#workDir,
        heartbeatMs: this.#config.heartbeatMs,
        probeTimeoutMs: this.#config.probeTimeoutMs,
        drainTimeoutMs: this.#config.drainTimeoutMs,
      },
      edge: this.#edge,
      store: this.#store,
      metrics: this.#metrics,
      logger: this.#log,
      onClosed: () => {
        this.#streams.delete(publish.sessionId);
        this.#metrics.activeStreams.set(this.streamIds().length);
      },
    });
    this.#streams.set(publish.sessionId, stream);
    stream
      .start()
      .then(() => this.#metrics.activeStreams.set(this.streamIds().length))
      .catch((err: unknown) => {
        this.#log.error({ err }, 'stream failed to start');
        void stream.close('failed to start');
      });
  }
}
