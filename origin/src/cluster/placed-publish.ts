import type { Logger } from 'pino';
import { parseStreamKey } from '../../../shared/src/keys/stream-key.ts';
import type { IngestPublish } from '../ingest/rtmp-ingest-server.ts';
import type { ClusterNode, Coordinator } from './coordinator.ts';
import { FlvRelay } from './flv-relay.ts';
import { rendezvousRank } from './rendezvous.ts';

/** Lifecycle of one broadcaster's publish on its ingest node. */
export type PlacedPublishState = 'placing' | 'local' | 'relaying' | 'closed';

/** What placement needs from its node. */
export interface PlacementHost {
  nodeId: string;
  secret: string;
  coordinator: Coordinator;
  logger: Logger;
  /** True while this node may take a stream to transcode itself (running, under capacity). */
  canTranscodeHere(): boolean;
  /** Transcodes here; resolves when that LiveStream closed, with whether it handed over. */
  transcodeHere(publish: IngestPublish, takeoverFrom: string | undefined): { unpublish(): void; closed: Promise<'handover' | 'done'> };
  onCoordinatorError(err: unknown): void;
  /** A relay that moves no bytes for this long is lost. */
  relayIdleTimeoutMs: number;
  relayStarted(delta: 1 | -1): void;
}

/**
 * Places one publish on the node that transcodes it: rendezvous hashing of the stream id over the
 * live nodes. Here → a local LiveStream; elsewhere → an FLV relay. When the relay target dies or
 * hands the stream over, the stream is placed again over the remaining nodes, naming the failed
 * one so the next owner can take the lease (and the StreamDO epoch) over at once.
 */
export class PlacedPublish {
  #state: PlacedPublishState = 'placing';
  readonly #publish: IngestPublish;
  readonly #host: PlacementHost;
  #relay: FlvRelay | undefined;
  #local: { unpublish(): void } | undefined;
  #unpublished = false;
  readonly #failed = new Set<string>();

  constructor(publish: IngestPublish, host: PlacementHost) {
    this.#publish = publish;
    this.#host = host;
  }

  get state(): PlacedPublishState {
    return this.#state;
  }

  /** Places the stream, and places it again after each handover or loss, until it ends. */
  async start(): Promise<void> {
    const streamId = parseStreamKey(this.#publish.streamKey)?.streamId;
    let takeoverFrom: string | undefined;
    for (let attempt = 0; attempt < 10 && !this.#unpublished; attempt++) {
      const ranked = streamId ? await this.#rank(streamId) : [];
      const target = ranked.find((n) => !this.#failed.has(n.nodeId)) ?? (this.#host.canTranscodeHere() ? undefined : null);
      if (target === null) {
        this.#publish.reject('no origin node can take this stream now', 'over_capacity');
        break;
      }
      if (!target || target.nodeId === this.#host.nodeId) {
        this.#state = 'local';
        const local = this.#host.transcodeHere(this.#publish, takeoverFrom);
        this.#local = local;
        const how = await local.closed;
        this.#local = undefined;
        if (how !== 'handover' || this.#unpublished) break;
        this.#failed.add(this.#host.nodeId);
        takeoverFrom = undefined; // our own lease was released: no takeover needed
        continue;
      }
      this.#state = 'relaying';
      const outcome = await this.#relayTo(target, takeoverFrom);
      if (outcome.kind === 'finished' || (outcome.kind === 'closed' && outcome.code !== 'handover')) break;
      if (outcome.kind === 'refused' && outcome.code !== 'over_capacity' && outcome.status !== 503) {
        this.#publish.reject(outcome.message, outcome.code);
        break;
      }
      this.#failed.add(target.nodeId);
      takeoverFrom = outcome.kind === 'lost' ? target.nodeId : undefined;
      this.#host.logger.warn({ streamId, from: target.nodeId, outcome }, 'placing the stream again');
    }
    this.#state = 'closed';
  }

  /** The broadcaster stopped. */
  unpublish(): void {
    this.#unpublished = true;
    this.#relay?.finish();
    this.#local?.unpublish();
  }

  /** Drops the relay (node shutdown). */
  close(reason: string): void {
    this.#unpublished = true;
    this.#relay?.close(reason);
  }

  async #relayTo(target: ClusterNode, takeoverFrom: string | undefined) {
    const relay = new FlvRelay({
      publish: this.#publish,
      targetUrl: target.httpUrl,
      targetNodeId: target.nodeId,
      secret: this.#host.secret,
      takeoverFrom,
      logger: this.#host.logger,
      idleTimeoutMs: this.#host.relayIdleTimeoutMs,
      onLive: () => this.#host.logger.info({ target: target.nodeId }, 'relaying to the transcoding node'),
    });
    this.#relay = relay;
    this.#host.relayStarted(1);
    try {
      await relay.start();
      const outcome = await relay.outcome;
      if (outcome.kind === 'closed' && outcome.code !== 'handover' && outcome.code !== 'finished') this.#publish.reject(outcome.reason);
      return outcome;
    } finally {
      this.#relay = undefined;
      this.#host.relayStarted(-1);
    }
  }

  /** Live nodes by rendezvous rank; only this node when the coordinator cannot be asked. */
  async #rank(streamId: string): Promise<ClusterNode[]> {
    let nodes: ClusterNode[];
    try {
      nodes = await this.#host.coordinator.nodes();
    } catch (err) {
      this.#host.onCoordinatorError(err);
      nodes = [];
    }
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    return rendezvousRank(streamId, [...byId.keys()])
      .map((id) => byId.get(id)!)
      .filter((n) => n.nodeId !== this.#host.nodeId || this.#host.canTranscodeHere());
  }
}
