import { mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { HttpEdgeClient, type EdgeClient } from './announce/edge-client.ts';
import type { ClusterNode, Coordinator } from './cluster/coordinator.ts';
import { LeaseKeeper } from './cluster/lease-keeper.ts';
import { MemoryCoordinator } from './cluster/memory-coordinator.ts';
import { PlacedPublish } from './cluster/placed-publish.ts';
import { RedisCoordinator } from './cluster/redis-coordinator.ts';
import { relaySigned } from './cluster/relay-protocol.ts';
import { finishRelay, relayPublish } from './cluster/relay-publish.ts';
import type { OriginConfig } from './config.ts';
import { OriginHttpServer } from './http/origin-http-server.ts';
import { OriginMetrics } from './http/origin-metrics.ts';
import { RtmpIngestServer, type IngestPublish } from './ingest/rtmp-ingest-server.ts';
import { LiveStream } from './live-stream.ts';
import { S3SegmentStore } from './store/s3-segment-store.ts';
import type { SegmentStore } from './store/segment-store.ts';
import { resolveFfmpeg, type FfmpegBinary } from './transcode/ffmpeg-binary.ts';

/** Lifecycle of an origin node. */
export type OriginNodeState = 'idle' | 'starting' | 'running' | 'draining' | 'stopping' | 'stopped';

/** Collaborators a node can be given instead of building its own (tests, embedding). */
export interface OriginNodeDeps {
  logger?: Logger;
  edge?: EdgeClient;
  store?: SegmentStore;
  coordinator?: Coordinator;
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
  readonly #placed = new Map<string, PlacedPublish>();
  readonly #coordinator: Coordinator;
  readonly #leases: LeaseKeeper;
  #registration: NodeJS.Timeout | undefined;
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
    const onCoordinatorError = (err: unknown) => {
      this.#metrics.coordinatorError();
      this.#log.debug({ err }, 'coordinator error');
    };
    this.#coordinator =
      deps.coordinator ??
      (config.redisUrl ? new RedisCoordinator({ url: config.redisUrl, onError: onCoordinatorError }) : new MemoryCoordinator());
    this.#leases = new LeaseKeeper({
      coordinator: this.#coordinator,
      settings: { nodeId: config.nodeId, leaseTtlMs: config.leaseTtlMs, nodeCapacity: config.nodeCapacity, clusterCapacity: config.clusterCapacity },
      logger: this.#log,
      onCoordinatorError,
    });
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
    return [...this.#streams.values()].filter((s) => s.state === 'live' || s.state === 'restarting').map((s) => s.streamId!);
  }

  /** This node as the registry lists it. */
  #self(): ClusterNode {
    const c = this.#config;
    return { nodeId: c.nodeId, httpUrl: `http://${c.advertiseHost}:${this.httpPort}`, rtmpUrl: `rtmp://${c.advertiseHost}:${c.rtmpPort}/live`, pid: process.pid, capacity: c.nodeCapacity };
  }

  async #register(): Promise<void> {
    if (this.#state !== 'running') return;
    try {
      await this.#coordinator.heartbeat(this.#self(), this.#config.nodeTtlMs);
    } catch (err) {
      this.#metrics.coordinatorError();
      this.#log.warn({ err: (err as Error).message }, 'node heartbeat to the coordinator failed');
    }
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
    this.#metrics.watchNode({ capacity: this.#config.nodeCapacity, ready: () => this.#state === 'running' });
    this.#log.info({ ffmpeg: this.#ffmpeg.path, source: this.#ffmpeg.source }, `using ffmpeg from ${this.#ffmpeg.source}`);
    mkdirSync(this.#workDir, { recursive: true });
    this.#http = new OriginHttpServer({
      host: this.#config.bindHost,
      port: this.#config.httpPort,
      status: { nodeId: this.#config.nodeId, ready: () => this.#state === 'running', streamIds: () => this.streamIds() },
      onRelay: (req, res, target) => this.#onRelay(req, res, target),
      metrics: this.#metrics,
      store: this.#store,
      logger: this.#log,
    });
    await this.#http.start();
    try {
      await this.#coordinator.start();
    } catch (err) {
      // Redis down at start: run anyway (placement falls back to this node) and keep reconnecting.
      this.#metrics.coordinatorError();
      this.#log.error({ err }, 'coordinator unreachable at start; retrying in the background');
    }
    this.#ingest = new RtmpIngestServer({
      host: this.#config.bindHost,
      port: this.#config.rtmpPort,
      workDir: this.#workDir,
      logger: this.#log,
      events: {
        onPublish: (p) => this.#onPublish(p),
        onUnpublish: (id) => {
          this.#placed.get(id)?.unpublish();
          void this.#streams.get(id)?.unpublish();
        },
      },
    });
    await this.#ingest.start();
    this.#state = 'running';
    await this.#register();
    this.#registration = setInterval(() => void this.#register(), Math.max(200, Math.floor(this.#config.nodeTtlMs / 3)));
    this.#log.info({ cluster: this.#config.redisUrl ? 'redis' : 'single node', node: this.#self() }, 'origin node running');
  }

  /**
   * Graceful shutdown (SIGTERM): refuse new publishes (readyz 503), leave the registry, hand the
   * streams transcoded here to other nodes (no end is announced, so nothing announced disappears),
   * give broadcasters connected here up to SHUTDOWN_GRACE_MS to finish, then stop. With no other
   * live node to take them, the streams end here instead (`node_shutdown`: error, resumable).
   */
  async drain(reason: string): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'draining';
    clearInterval(this.#registration);
    await this.#coordinator.leave(this.#config.nodeId).catch((err: unknown) => this.#log.warn({ err }, 'could not leave the registry; it will expire'));
    const others = await this.#coordinator.nodes().then(
      (nodes) => nodes.filter((n) => n.nodeId !== this.#config.nodeId).length,
      () => 0,
    );
    const mode = others > 0 ? 'handover' : 'end';
    this.#log.info({ reason, streams: this.streamIds(), otherNodes: others, mode }, mode === 'handover' ? 'draining: handing streams over' : 'draining: no other node; ending streams here');
    await Promise.all([...this.#streams.values()].map((s) => s.close(reason, mode)));
    const deadline = Date.now() + this.#config.shutdownGraceMs;
    while (this.#placed.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await this.stop(reason, 'handover');
  }

  /** Ends (or with `handover`, leaves resumable) every stream on this node, then stops listening. */
  async stop(reason: string, mode: 'end' | 'handover' = 'end'): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    clearInterval(this.#registration);
    for (const p of this.#placed.values()) p.close(reason);
    await Promise.all([...this.#streams.values()].map((s) => s.close(reason, mode)));
    await this.#coordinator.leave(this.#config.nodeId).catch(() => {});
    await this.#coordinator.close(reason);
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
    const placed = new PlacedPublish(publish, {
      nodeId: this.#config.nodeId,
      secret: this.#config.originSecret,
      coordinator: this.#coordinator,
      logger: this.#log.child({ session: publish.sessionId }),
      canTranscodeHere: () => this.#state === 'running' && this.streamIds().length < this.#config.nodeCapacity,
      transcodeHere: (p, takeoverFrom) => {
        let closed!: (how: 'handover' | 'done') => void;
        const done = new Promise<'handover' | 'done'>((r) => (closed = r));
        let handedOver = false;
        const wrapped: IngestPublish = {
          ...p,
          reject: (reason, code) => {
            if (code === 'handover') handedOver = true;
            else p.reject(reason, code);
          },
        };
        const stream = this.#startStream(wrapped, takeoverFrom, () => closed(handedOver ? 'handover' : 'done'));
        return { unpublish: () => void stream.unpublish(), closed: done };
      },
      onCoordinatorError: () => this.#metrics.coordinatorError(),
      relayStarted: (delta) => this.#metrics.relays.inc(delta),
    });
    this.#placed.set(publish.sessionId, placed);
    placed
      .start()
      .catch((err: unknown) => {
        this.#log.error({ err }, 'placement failed');
        publish.reject('placement failed');
      })
      .finally(() => this.#placed.delete(publish.sessionId));
  }

  /** Another node relays a broadcaster's FLV here: transcode it as if it were a local publish. */
  async #onRelay(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    const refuse = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code, message } }));
      req.resume();
    };
    if (!(await relaySigned(this.#config.originSecret, target, req.headers, Date.now()))) return refuse(401, 'unauthorized', 'relay signature refused');
    if (this.#state !== 'running') return refuse(503, 'over_capacity', `node ${this.#config.nodeId} is shutting down`);
    if (this.streamIds().length >= this.#config.nodeCapacity) return refuse(503, 'over_capacity', `node ${this.#config.nodeId} is at its capacity of ${this.#config.nodeCapacity} streams`);
    const q = new URL(target, 'http://relay').searchParams;
    const publish = relayPublish(req, res, q.get('key') ?? '', (how, sessionId) => {
      const stream = this.#streams.get(sessionId);
      if (how === 'end') void stream?.unpublish();
      else void stream?.close('the ingest node relaying this stream is gone', 'handover');
    });
    this.#startStream(publish, q.get('takeoverFrom') ?? undefined, () => finishRelay(res));
  }

  #startStream(publish: IngestPublish, takeoverFrom: string | undefined, onClosed: () => void): LiveStream {
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
        stallMs: this.#config.ffmpegStallMs,
        maxRestarts: this.#config.ffmpegMaxRestarts,
        restartBackoffMs: this.#config.ffmpegRestartBackoffMs,
        healthyResetMs: this.#config.ffmpegHealthyResetMs,
      },
      ownership: this.#leases,
      ...(takeoverFrom ? { takeoverFrom } : {}),
      edge: this.#edge,
      store: this.#store,
      metrics: this.#metrics,
      logger: this.#log,
      onClosed: () => {
        this.#streams.delete(publish.sessionId);
        this.#metrics.activeStreams.set(this.streamIds().length);
        onClosed();
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
    return stream;
  }
}
