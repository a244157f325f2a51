/** Wires a StreamDO's stored state to its analytics feed: consumer hand-off, snapshots and when the next is due. */
import type { ErrorBody } from '../../../shared/src/errors.ts';
import type { SnapshotBody, StreamEvent } from '../../../shared/src/feed/feed-messages.ts';
import { existingStream } from './existing-stream.ts';
import { StreamFeed, type ConsumerAttachment } from './stream-feed.ts';
import type { AudienceSummary } from './stream-audience.ts';
import type { StreamRow } from './stream-schema.ts';
import type { StreamStore } from './stream-store.ts';
import { eventView, snapshotBody } from './stream-view.ts';

/** Events replayed to a reconnecting consumer at most. */
const MAX_REPLAYED_EVENTS = 1000;

/** What the bridge reads: the stream row and its event log, and the audience figures. */
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

/**
 * The StreamDO's side of the analytics feed. StreamFeed owns the sockets and messages; this decides
 * what goes out (built from the store and audience) and arms the alarm for snapshots.
 */
export class FeedBridge {
  readonly #feed: StreamFeed;
  readonly #storage: Pick<DurableObjectStorage, 'getAlarm' | 'setAlarm'>;
  readonly #sources: FeedSources;
  readonly #ctx: DurableObjectState;

  constructor(ctx: DurableObjectState, sources: FeedSources, nextSeq: () => number) {
    this.#ctx = ctx;
    this.#feed = new StreamFeed(ctx, nextSeq);
    this.#storage = ctx.storage;
    this.#sources = sources;
  }

  /** Accepts a consumer the Worker has authenticated: a snapshot, then any events after `?since=`. */
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
    const response = this.#feed.accept(attachment, this.snapshot(row.value, now), missed, now);
    if (this.#wanted(row.value, now)) await this.scheduleSnapshot();
    return response;
  }

  /** The feed snapshot of the stream now. */
  snapshot(row: StreamRow, now: number): SnapshotBody {
    return snapshotBody(row, this.#sources.audience.summary(row, now));
  }

  /** When the alarm should send the next snapshot, or null when the feed wants none. */
  nextSnapshotAt(row: StreamRow, now: number): number | null {
    return this.#wanted(row, now) ? this.#feed.snapshotDueAt(now) : null;
  }

  /** Arms the alarm for the next snapshot if consumers are connected and it would fire later. */
  async scheduleSnapshot(): Promise<void> {
    if (this.#feed.consumers === 0) return;
    const due = this.#feed.snapshotDueAt(Date.now());
    const current = await this.#storage.getAlarm();
    if (current === null || current > due) await this.#storage.setAlarm(due);
  }

  /** Sends a committed write's events to every consumer. */
  publishEvents(events: readonly StreamEvent[]): void {
    const id = this.#sources.store.stream()?.id;
    if (id) this.#feed.publishEvents(id, events, Date.now());
  }

  /** The alarm's snapshot tick: the stream as it is now, if anyone listens and it changed. */
  publishSnapshot(now: number): void {
    const row = this.#sources.store.stream();
    if (row && this.#feed.consumers > 0) this.#feed.publishSnapshot(row.id, this.snapshot(row, now), now);
  }

  /** Closes every consumer (the stream is gone). */
  closeAll(code: number, reason: string): void {
    this.#feed.closeAll(code, reason);
  }

  #wanted(row: StreamRow, now: number): boolean {
    if (this.#feed.consumers === 0 || row.deleted_at !== null) return false;
    const body = this.snapshot(row, now);
    return wantsSnapshot(row, body, this.#feed.changed(body));
  }
}

/** Sockets one feed token may hold open at once (a dashboard needs one; a few tabs a few). */
export const MAX_SOCKETS_PER_FEED_TOKEN = 4;

function errorResponse(code: ErrorBody['error']['code'], message: string, status: number): Response {
  return Response.json({ error: { code, message } } satisfies ErrorBody, { status, headers: { 'Cache-Control': 'no-store' } });
}
