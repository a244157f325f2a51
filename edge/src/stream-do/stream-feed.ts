/**
 * The analytics feed of one StreamDO: hibernatable consumer sockets (the runtime keeps them in
 * `ctx.getWebSockets()`, so nothing here must survive eviction), what goes out on them — a snapshot
 * built from the stored state and audience when it changed, one message per stored event — and the
 * alarm time of the next snapshot. `send` never blocks in workerd; a socket that throws is closed
 * and the others still get the message.
 */
import type { ErrorBody } from '../../../shared/src/errors.ts';
import type { EventMessage, SnapshotBody, SnapshotMessage, StreamEvent } from '../../../shared/src/feed/feed-messages.ts';
import { existingStream } from './existing-stream.ts';
import type { AudienceSummary } from './stream-audience.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import { eventView, snapshotBody } from './stream-view.ts';

/** Snapshots go out at most this often while something changes. */
export const SNAPSHOT_INTERVAL_MS = 1000;

/** Events replayed to a reconnecting consumer at most. */
const MAX_REPLAYED_EVENTS = 1000;

/** Sockets one feed token may hold open at once (a dashboard needs one; a few tabs a few). */
export const MAX_SOCKETS_PER_FEED_TOKEN = 4;

/** What each consumer socket carries across hibernation (serializeAttachment, far below 16 KiB). */
export interface ConsumerAttachment {
  streamId: string;
  connectedAt: number;
  /** `admin` or `token` (a feed token), for logs and stats. */
  auth: string;
  /** For a feed token: the tail of its MAC, so sockets per token can be capped. */
  tokenId?: string;
}

/** What the feed reads: the stream row and its event log, and the audience figures. */
export interface FeedSources {
  store: Pick<StreamStore, 'stream' | 'events'>;
  audience: { summary(row: StreamRow, now: number): AudienceSummary };
}

/**
 * Whether connected consumers need another snapshot tick for this row: the stream is live (ingest
 * figures move), viewers may age out of the window, or the state changed since the last one. Pure.
 */
export function wantsSnapshot(row: Pick<StreamRow, 'status'>, body: SnapshotBody, changed: boolean): boolean {
  return row.status === 'live' || body.viewers.current > 0 || changed;
}

/** Fan-out shards carrying feed consumers (through the playlist push): every message is passed to them too. */
export interface FeedRelay {
  send(text: string): void;
  /** Shard subscriptions that carry the feed. */
  readonly count: number;
}

export class StreamFeed {
  readonly #ctx: DurableObjectState;
  readonly #sources: FeedSources;
  readonly #nextSeq: () => number;
  readonly #relay: FeedRelay;
  #lastSnapshotAt = 0;
  /** The last snapshot sent, without its envelope; null after a restart, so the next one always goes. */
  #lastSnapshotKey: string | null = null;

  constructor(ctx: DurableObjectState, sources: FeedSources, nextSeq: () => number, relay: FeedRelay = { send: () => {}, count: 0 }) {
    this.#ctx = ctx;
    this.#sources = sources;
    this.#nextSeq = nextSeq;
    this.#relay = relay;
  }

  /** Connected consumers, counting each shard that carries the feed as one. */
  get consumers(): number {
    return this.#ctx.getWebSockets().length + this.#relay.count;
  }

  /** The snapshot message a shard gives its new feed consumers first (JSON text), or null without a stream. */
  snapshotText(now: number): string | null {
    const row = this.#sources.store.stream();
    return row ? JSON.stringify(this.#snapshotMessage(row.id, this.snapshot(row, now), now)) : null;
  }

  /** The event messages after `since` (JSON texts), for a consumer reconnecting at a shard. */
  replay(since: number, now: number): string[] {
    const streamId = this.#sources.store.stream()?.id;
    if (!streamId) return [];
    return this.#sources.store.events(since, MAX_REPLAYED_EVENTS).map((row) => JSON.stringify(this.#eventMessage(streamId, eventView(row), now)));
  }

  /** Accepts a consumer the Worker has authenticated: a snapshot at once, then the events after `?since=`. */
  async connect(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return errorResponse('bad_request', 'expected a WebSocket upgrade', 426);
    const row = existingStream(this.#sources.store.stream());
    if (!row.ok) return errorResponse(row.code, row.message, 404);
    const since = new URL(request.url).searchParams.get('since');
    const missed = since === null ? [] : this.#sources.store.events(Number(since), MAX_REPLAYED_EVENTS).map(eventView);
    const now = Date.now();
    const tokenId = request.headers.get('x-edgelive-feed-token-id');
    if (tokenId !== null) {
      const open = this.#ctx.getWebSockets().filter((ws: WebSocket) => (ws.deserializeAttachment() as ConsumerAttachment | null)?.tokenId === tokenId).length;
      if (open >= MAX_SOCKETS_PER_FEED_TOKEN) return errorResponse('rate_limited', `this feed token already has ${open} open sockets (at most ${MAX_SOCKETS_PER_FEED_TOKEN})`, 429);
    }
    const attachment: ConsumerAttachment = { streamId: row.value.id, connectedAt: now, auth: request.headers.get('x-edgelive-feed-auth') ?? 'unknown', ...(tokenId !== null ? { tokenId } : {}) };
    const snapshot = this.snapshot(row.value, now);
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const alone = this.consumers === 0;
    this.#ctx.acceptWebSocket(server);
    server.serializeAttachment(attachment);
    this.#send(server, JSON.stringify(this.#snapshotMessage(attachment.streamId, snapshot, now)));
    // With no one else listening, this snapshot is what every consumer has seen.
    if (alone) {
      this.#lastSnapshotAt = now;
      this.#lastSnapshotKey = snapshotKey(snapshot);
    }
    for (const event of missed) this.#send(server, JSON.stringify(this.#eventMessage(attachment.streamId, event, now)));
    if (this.#wanted(row.value, now)) await this.scheduleSnapshot();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The feed snapshot of the stream now. */
  snapshot(row: StreamRow, now: number): SnapshotBody {
    return snapshotBody(row, this.#sources.audience.summary(row, now));
  }

  /** When the alarm should send the next snapshot, or null when the feed wants none. */
  nextSnapshotAt(row: StreamRow, now: number): number | null {
    return this.#wanted(row, now) ? this.#snapshotDueAt(now) : null;
  }

  /** Arms the alarm for the next snapshot if consumers are connected and it would fire later. */
  async scheduleSnapshot(): Promise<void> {
    if (this.consumers === 0) return;
    const due = this.#snapshotDueAt(Date.now());
    const current = await this.#ctx.storage.getAlarm();
    if (current === null || current > due) await this.#ctx.storage.setAlarm(due);
  }

  /** Sends a committed write's events to every consumer, in order. */
  publishEvents(events: readonly StreamEvent[]): void {
    const streamId = this.#sources.store.stream()?.id;
    const sockets = this.#ctx.getWebSockets();
    if (!streamId || events.length === 0 || sockets.length + this.#relay.count === 0) return;
    const now = Date.now();
    for (const event of events) this.#broadcast(sockets, JSON.stringify(this.#eventMessage(streamId, event, now)));
  }

  /** The alarm's snapshot tick: the stream as it is now, to every consumer, if it differs from the last one sent. */
  publishSnapshot(now: number): void {
    const row = this.#sources.store.stream();
    const sockets = this.#ctx.getWebSockets();
    if (!row || sockets.length + this.#relay.count === 0) return;
    const body = this.snapshot(row, now);
    const key = snapshotKey(body);
    if (key === this.#lastSnapshotKey) return;
    this.#broadcast(sockets, JSON.stringify(this.#snapshotMessage(row.id, body, now)));
    this.#lastSnapshotAt = now;
    this.#lastSnapshotKey = key;
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

  #wanted(row: StreamRow, now: number): boolean {
    if (this.consumers === 0 || row.deleted_at !== null) return false;
    const body = this.snapshot(row, now);
    return wantsSnapshot(row, body, snapshotKey(body) !== this.#lastSnapshotKey);
  }

  /** The earliest time the next snapshot may go out. */
  #snapshotDueAt(now: number): number {
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
    if (this.#relay.count > 0) this.#relay.send(text);
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

function errorResponse(code: ErrorBody['error']['code'], message: string, status: number): Response {
  return Response.json({ error: { code, message } } satisfies ErrorBody, { status, headers: { 'Cache-Control': 'no-store' } });
}
