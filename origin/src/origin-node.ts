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
import { loopbackPort, RtmpGuard } from './ingest/rtmp-guard.ts';
import { StreamOutbox } from './announce/stream-outbox.ts';
import type { StreamOwnership } from './cluster/lease-keeper.ts';
import type { PublishOutcome } from './publish/publish-lifecycle.ts';
import { PublishRun } from './publish/publish-run.ts';
import { S3SegmentStore } from './store/s3-segment-store.ts';
import { RecentParts } from './store/recent-parts.ts';
import type { SegmentStore } from './store/segment-store.ts';
import { resolveFfmpeg, type FfmpegBinary } from './transcode/ffmpeg-binary.ts';
import { Transcoder } from './transcode/transcoder.ts';

/** First wait after a failed upload or announce; doubles up to OUTBOX_RETRY_MAX_MS. */
const OUTBOX_RETRY_BASE_MS = 250;
const OUTBOX_RETRY_MAX_MS = 2_000;
/** How long a handover lets the outbox store and announce what is queued before the lease goes. */
const HANDOVER_SETTLE_MS = 5_000;
/** How long a reconnect waits for the same stream's previous publish here to drain and end. */
const EARLIER_PUBLISH_WAIT_MS = 5_000;

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
 * One origin node: RTMP ingest, a PublishRun per publish (probe → admit → transcode → package →
 * store → announce), a StreamOutbox per stream (outliving a publish across reconnects), and its own
 * HTTP for health, metrics and origin-pull.
 */
export class OriginNode {
  #state: OriginNodeState = 'idle';
  readonly #config: OriginConfig;
  readonly #log: Logger;
  readonly #edge: EdgeClient;
  readonly #store: SegmentStore;
  /** LL-HLS parts of every stream on this node, for the media route (memory only). */
  readonly #recentParts = new RecentParts();
  readonly #metrics = new OriginMetrics();
  /** Publishes running here, by ingest session id. */
  readonly #runs = new Map<string, { run: PublishRun; done: Promise<PublishOutcome>; order: number }>();
  /** Order in which publishes started here (a reconnect waits only for the ones before it). */
  #runOrder = 0;
  /** The admitted publish of each stream here (the one a newer publish supersedes). */
  readonly #current = new Map<string, PublishRun>();
  readonly #outboxes = new Map<string, StreamOutbox>();
  readonly #placed = new Map<string, PlacedPublish>();
  readonly #coordinator: Coordinator;
  readonly #leases: LeaseKeeper;
  #registration: NodeJS.Timeout | undefined;
  readonly #workDir: string;
  readonly #ownsWorkDir: boolean;
  #ffmpeg: FfmpegBinary | undefined;
  #ingest: RtmpIngestServer | undefined;
  #guard: RtmpGuard | undefined;
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
    return [...this.#runs.values()].filter(({ run }) => run.state === 'live' || run.state === 'restarting').map(({ run }) => run.streamId!);
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
      recentParts: this.#recentParts,
      logger: this.#log,
      requestTimeoutMs: this.#config.httpRequestTimeoutMs,
      relayIdleTimeoutMs: this.#config.relayIdleTimeoutMs,
      secret: this.#config.originSecret,
      metricsToken: this.#config.metricsToken,
    });
    await this.#http.start();
    try {
      await this.#coordinator.start();
    } catch (err) {
      // Redis down at start: run anyway (placement falls back to this node) and keep reconnecting.
      this.#metrics.coordinatorError();
      this.#log.error({ err }, 'coordinator unreachable at start; retrying in the background');
    }
    // node-media-server listens on loopback only; the public RTMP port is the guard in front of it.
    const nmsPort = await loopbackPort();
    this.#ingest = new RtmpIngestServer({
      host: '127.0.0.1',
      port: nmsPort,
      workDir: this.#workDir,
      logger: this.#log,
      resolveAddress: (peerPort) => this.#guard?.clientAddress(peerPort),
      events: {
        onPublish: (p) => this.#onPublish(p),
        onUnpublish: (id) => {
          this.#placed.get(id)?.unpublish();
          this.#runs.get(id)?.run.unpublish();
        },
      },
    });
    await this.#ingest.start();
    this.#guard = new RtmpGuard({ host: this.#config.bindHost, port: this.#config.rtmpPort, upstreamHost: '127.0.0.1', upstreamPort: nmsPort, settings: this.#config.rtmpGuard, logger: this.#log });
    await this.#guard.start();
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
    await this.#closeRuns(reason, mode);
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
    await this.#closeRuns(reason, mode);
    await Promise.race([Promise.all([...this.#outboxes.values()].map((o) => o.whenIdle())), new Promise((r) => setTimeout(r, HANDOVER_SETTLE_MS))]);
    await this.#coordinator.leave(this.#config.nodeId).catch(() => {});
    await this.#coordinator.close(reason);
    await this.#guard?.close(reason);
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
        const started = this.#startRun(wrapped, takeoverFrom);
        void started.done.then(() => closed(handedOver ? 'handover' : 'done'));
        return { unpublish: () => started.run.unpublish(), closed: done };
      },
      onCoordinatorError: () => this.#metrics.coordinatorError(),
      relayIdleTimeoutMs: this.#config.relayIdleTimeoutMs,
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
    const streamKey = await relaySigned(this.#config.originSecret, target, req.headers, Date.now());
    if (streamKey === null) return refuse(401, 'unauthorized', 'relay signature refused');
    if (this.#state !== 'running') return refuse(503, 'over_capacity', `node ${this.#config.nodeId} is shutting down`);
    if (this.streamIds().length >= this.#config.nodeCapacity) return refuse(503, 'over_capacity', `node ${this.#config.nodeId} is at its capacity of ${this.#config.nodeCapacity} streams`);
    const q = new URL(target, 'http://relay').searchParams;
    const publish = relayPublish(req, res, streamKey, (how, sessionId) => {
      const run = this.#runs.get(sessionId)?.run;
      if (how === 'end') run?.unpublish();
      else run?.close('the ingest node relaying this stream is gone', 'handover');
    });
    void this.#startRun(publish, q.get('takeoverFrom') ?? undefined).done.then(() => finishRelay(res));
  }

  /** Asks every publish here to end (or hand over) and waits for each to finish. */
  async #closeRuns(reason: string, mode: 'handover' | 'end'): Promise<void> {
    const runs = [...this.#runs.values()];
    for (const { run } of runs) run.close(reason, mode);
    await Promise.all(runs.map((r) => r.done));
  }

  /** The stream's outbox on this node, made on first use; an edge refusal fences the stream's current publish. */
  #outboxFor(streamId: string): StreamOutbox {
    let outbox = this.#outboxes.get(streamId);
    if (outbox?.cancelled) outbox = undefined;
    if (!outbox) {
      outbox = new StreamOutbox({
        streamId,
        store: this.#store,
        edge: this.#edge,
        metrics: this.#metrics,
        settings: { maxQueuedBytes: this.#config.uploadQueueMaxBytes, retryBaseMs: OUTBOX_RETRY_BASE_MS, retryMaxMs: OUTBOX_RETRY_MAX_MS },
        logger: this.#log.child({ streamId }),
        onRefused: (r) => this.#current.get(streamId)?.fence(`edge refused ${r.code}: ${r.message}`),
        recentParts: this.#recentParts,
      });
      this.#outboxes.set(streamId, outbox);
    }
    return outbox;
  }

  /** Forgets a stream's outbox once it has nothing left to send and no publish uses it. */
  #retireOutbox(streamId: string): void {
    const outbox = this.#outboxes.get(streamId);
    if (!outbox) return;
    void outbox.whenIdle().then(() => {
      const inUse = [...this.#runs.values()].some(({ run }) => run.streamId === streamId);
      if (!inUse && this.#outboxes.get(streamId) === outbox) {
        this.#outboxes.delete(streamId);
        this.#metrics.uploadBacklog(streamId, undefined);
      }
    });
  }

  #startRun(publish: IngestPublish, takeoverFrom: string | undefined): { run: PublishRun; done: Promise<PublishOutcome> } {
    const c = this.#config;
    // Releasing the lease is the stream's current publish's to do: an older one it superseded on
    // this node must not release the lease the newer one holds under the same node id.
    const ownership: StreamOwnership = {
      acquire: (streamId, from) => this.#leases.acquire(streamId, from),
      renew: (streamId, epoch) => this.#leases.renew(streamId, epoch),
      release: async (streamId) => {
        const current = this.#current.get(streamId);
        if (!current || current === run) await this.#leases.release(streamId);
      },
    };
    const order = ++this.#runOrder;
    const run: PublishRun = new PublishRun({
      publish,
      settings: {
        nodeId: c.nodeId,
        heartbeatMs: c.heartbeatMs,
        probeTimeoutMs: c.probeTimeoutMs,
        drainTimeoutMs: c.drainTimeoutMs,
        maxRestarts: c.ffmpegMaxRestarts,
        restartBackoffMs: c.ffmpegRestartBackoffMs,
        healthyResetMs: c.ffmpegHealthyResetMs,
        grantPatienceMs: c.grantPatienceMs,
        handoverSettleMs: HANDOVER_SETTLE_MS,
      },
      edge: this.#edge,
      metrics: this.#metrics,
      ownership,
      ...(takeoverFrom ? { takeoverFrom } : {}),
      logger: this.#log,
      outboxFor: (streamId) => this.#outboxFor(streamId),
      claim: (streamId) => {
        const older = this.#current.get(streamId);
        this.#current.set(streamId, run);
        if (older && older !== run) older.supersede();
        this.#metrics.activeStreams.set(this.streamIds().length);
      },
      earlierPublishesDone: (streamId) => {
        const earlier = [...this.#runs.values()].filter((r) => r.order < order && r.run.streamId === streamId).map((r) => r.done);
        if (earlier.length === 0) return Promise.resolve();
        return Promise.race([Promise.all(earlier).then(() => {}), new Promise<void>((r) => setTimeout(r, EARLIER_PUBLISH_WAIT_MS))]);
      },
      createTranscoder: (events) => new Transcoder({ ffmpegPath: this.#ffmpeg!.path, x264Preset: c.x264Preset, thumbnailSeconds: c.thumbnailIntervalSeconds, socketDir: this.#workDir, stallMs: c.ffmpegStallMs }, events),
    });
    const done = run.run().then((outcome) => {
      this.#runs.delete(publish.sessionId);
      const streamId = run.streamId;
      if (streamId) {
        if (this.#current.get(streamId) === run) this.#current.delete(streamId);
        this.#retireOutbox(streamId);
      }
      if (outcome.kind === 'refused') this.#metrics.publishRefusals.inc({ code: outcome.code });
      // Wrong keys again and again from one address: the guard turns it away for a while.
      if (outcome.kind === 'refused' && outcome.code === 'stream_key_invalid') this.#guard?.noteRefusal(publish.remoteAddress);
      this.#metrics.activeStreams.set(this.streamIds().length);
      return outcome;
    });
    this.#runs.set(publish.sessionId, { run, done, order });
    return { run, done };
  }
}
