import type { EventMessage, SnapshotBody, SnapshotMessage, StreamEvent } from '../../../shared/src/feed/feed-messages.ts';

/** Snapshots go out at most this often while something changes. */
export const SNAPSHOT_INTERVAL_MS = 1000;

/** What each consumer socket carries across hibernation (serializeAttachment, far below 16 KiB). */
export interface ConsumerAttachment {
  streamId: string;
  connectedAt: number;
  /** `admin` or `token` (a feed token), for logs and stats. */
  auth: string;
  /** For a feed token: the tail of its MAC, so sockets per token can be capped. */
  tokenId?: string;
}

/**
 * The analytics feed of one StreamDO: hibernatable consumer sockets (the runtime keeps them in
 * `ctx.getWebSockets()`, so nothing here must survive eviction), snapshots when the state changed,
 * and one message per stored event. `send` never blocks in workerd; a socket that throws is closed
 * and the others still get the message.
 */
export class StreamFeed {
  readonly #ctx: DurableObjectState;
  readonly #nextSeq: () => number;
  #lastSnapshotAt = 0;
  /** The last snapshot sent, without its envelope; null after a restart, so the next one always goes. */
  #lastSnapshotKey: string | null = null;

  constructor(ctx: DurableObjectState, nextSeq: () => number) {
    this.#ctx = ctx;
    this.#nextSeq = nextSeq;
  }

  /** Connected consumers. */
  get consumers(): number {
    return this.#ctx.getWebSockets().length;
  }

  /** Accepts a consumer: a snapshot at once, then the events it missed since its last `seq`. */
  accept(attachment: ConsumerAttachment, snapshot: SnapshotBody, missed: readonly StreamEvent[], now: number): Response {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const alone = this.#ctx.getWebSockets().length === 0;
    this.#ctx.acceptWebSocket(server);
    server.serializeAttachment(attachment);
    this.#send(server, JSON.stringify(this.#snapshotMessage(attachment.streamId, snapshot, now)));
    // With no one else listening, this snapshot is what every consumer has seen.
    if (alone) {
      this.#lastSnapshotAt = now;
      this.#lastSnapshotKey = snapshotKey(snapshot);
    }
    for (const event of missed) this.#send(server, JSON.stringify(this.#eventMessage(attachment.streamId, event, now)));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends each stored event to every consumer, in order. */
  publishEvents(streamId: string, events: readonly StreamEvent[], now: number): void {
    if (events.length === 0) return;
    const sockets = this.#ctx.getWebSockets();
    if (sockets.length === 0) return;
    for (const event of events) this.#broadcast(sockets, JSON.stringify(this.#eventMessage(streamId, event, now)));
  }

  /** Sends a snapshot to every consumer if it differs from the last one sent; returns whether it did. */
  publishSnapshot(streamId: string, body: SnapshotBody, now: number): boolean {
    const sockets = this.#ctx.getWebSockets();
    const key = snapshotKey(body);
    if (sockets.length === 0 || key === this.#lastSnapshotKey) return false;
    this.#broadcast(sockets, JSON.stringify(this.#snapshotMessage(streamId, body, now)));
    this.#lastSnapshotAt = now;
    this.#lastSnapshotKey = key;
    return true;
  }

  /** Closes every consumer (the stream is gone). */
  closeAll(code: number, reason: string): void {
    for (const ws of this.#ctx.getWebSockets()) {
      try {
        ws.close(code, reason);
      } catch {
        // already closed
      }
    }
  }

  /** Whether `body` differs from the last snapshot sent. */
  changed(body: SnapshotBody): boolean {
    return snapshotKey(body) !== this.#lastSnapshotKey;
  }

  /** The earliest time the next snapshot may go out. */
  snapshotDueAt(now: number): number {
    return Math.max(now, this.#lastSnapshotAt + SNAPSHOT_INTERVAL_MS);
  }

  #snapshotMessage(streamId: string, body: SnapshotBody, now: number): SnapshotMessage {
    return { type: 'snapshot', streamId, ts: now, seq: this.#nextSeq(), ...body };
  }

  #eventMessage(streamId: string, event: StreamEvent, now: number): EventMessage {
    return { type: 'event', streamId, ts: now, seq: this.#nextSeq(), event };
  }

  #broadcast(sockets: readonly WebSocket[], text: string): void {
    for (const ws of sockets) this.#send(ws, text);
  }

  #send(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
    } catch (err) {
      // A closing or broken socket: drop it rather than let it hold up anyone else.
      console.warn('analytics feed: send failed, closing the consumer', err);
      try {
        ws.close(1011, 'send failed');
      } catch {
        // already closed
      }
    }
  }
}

/** The snapshot without the heartbeat clock, so a heartbeat alone is not a change. */
function snapshotKey(body: SnapshotBody): string {
  return JSON.stringify({ ...body, ingest: body.ingest ? { ...body.ingest, lastHeartbeatAt: null } : null });
}
