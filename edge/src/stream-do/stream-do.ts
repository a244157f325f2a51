import { DurableObject } from 'cloudflare:workers';
import { EdgeliveError, type ErrorBody } from '../../../shared/src/errors.ts';
import type { SnapshotBody, StreamEvent } from '../../../shared/src/feed/feed-messages.ts';
import { timingSafeEqualHex } from '../../../shared/src/keys/stream-key.ts';
import type { EndAnnounce, HeartbeatAnnounce, PublishGrant, RenditionAnnounce, SegmentAnnounce } from '../../../shared/src/schemas.ts';
import type { Ladder, SegmentInfo, SourceInfo, StreamStatus } from '../../../shared/src/types.ts';
import type { Env } from '../env.ts';
import { parseSettings, type Settings } from '../settings.ts';
import type { ViewerBatch } from '../viewers/viewer-batch.ts';
import { AudienceStore } from './audience-store.ts';
import { fail, ok, type DoResult } from './do-result.ts';
import { KEY_INVALID_MESSAGE, publishRefusal } from './publish-policy.ts';
import type { StreamRow } from './stream-schema.ts';
import { transition, type LifecycleEvent } from './stream-state-machine.ts';
import { StreamStore, type NewStream } from './stream-store.ts';
import { StreamFeed, type ConsumerAttachment } from './stream-feed.ts';
import { errorSince, nextAlarmAt, purgeMedia, reportToRegistry } from './stream-upkeep.ts';
import { eventView, renditionView, segmentInfo, snapshotBody, streamView, type LastError, type RenditionView, type StreamEventView, type StreamView } from './stream-view.ts';

/** A transition the state machine refused, logged as a `transition_refused` event. */
interface RefusedTransition {
  from: StreamStatus;
  event: LifecycleEvent;
  message: string;
}

/** Peaks worth an event in the log and the feed. */
const VIEWER_MILESTONES = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
/** Sessions unseen this long are dropped from the sessions table (they stay counted in `total`). */
const SESSION_FORGET_MS = 10 * 60_000;
/** Viewers count as current while seen within this many target durations. */
const VIEWER_WINDOW_TARGETS = 3;
/** Events replayed to a reconnecting consumer at most. */
const MAX_REPLAYED_EVENTS = 1000;

/** Event types other objects may write into a stream's log (`recordEvent`). */
export type ExternalEventType = 'cdn_health';

/** What the master playlist route needs from the StreamDO. */
export interface MasterPlaylistData {
  status: StreamStatus;
  endedAt: number | null;
  dvrWindowSeconds: number;
  renditions: RenditionView[];
}

/** What a media playlist route needs from the StreamDO. */
export interface MediaPlaylistData {
  status: StreamStatus;
  endedAt: number | null;
  dvrWindowSeconds: number;
  targetDuration: number;
  discontinuitySequence: number;
  segments: SegmentInfo[];
}

/**
 * One Durable Object per stream (named by the stream id): the authority for its lifecycle, key,
 * epoch (fencing token), segment index and event log. Every state change is written in one
 * `transactionSync` before the caller gets an answer; the registry is told afterwards.
 */
export class StreamDO extends DurableObject<Env> {
  readonly #store: StreamStore;
  readonly #audience: AudienceStore;
  readonly #feed: StreamFeed;
  readonly #settings: Settings;
  /** Events appended by the write in progress; published to the feed once it commits. */
  #pendingEvents: StreamEvent[] = [];
  /** A lifecycle transition the write in progress tried and the state machine refused. */
  #refusedTransition: RefusedTransition | null = null;
  #lastSessionPruneAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#settings = parseSettings(env);
    this.#store = new StreamStore(ctx.storage.sql);
    this.#audience = new AudienceStore(ctx.storage.sql);
    this.#feed = new StreamFeed(ctx, () => this.#audience.nextFeedSeq());
    // Keep-alive pings are answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    void ctx.blockConcurrencyWhile(async () => {
      this.#store.migrate();
      this.#audience.migrate();
    });
  }

  /** Creates the stream; refuses if this id already holds one. */
  async create(input: Omit<NewStream, 'createdAt'>): Promise<DoResult<StreamView>> {
    const result = this.#write(() => {
      if (this.#store.stream()) throw new EdgeliveError('conflict', `stream ${input.id} already exists`);
      const now = Date.now();
      this.#store.insertStream({ ...input, createdAt: now });
      this.#event(now, 'created', { name: input.name });
      this.#store.bumpRegistryVersion();
    });
    if (!result.ok) return result;
    await this.#afterChange();
    return this.describe();
  }

  /** The stream as the management API shows it. */
  describe(): DoResult<StreamView> {
    const row = this.#existing();
    if (!row.ok) return row;
    const now = Date.now();
    return ok(streamView(row.value, this.#store.renditions(), { viewers: this.#audience.counts(now, this.#viewerWindowMs(row.value)), qoe: this.#audience.qoe() }));
  }

  /** Tombstones the stream: playback and keys fail at once, media objects are purged in the background. */
  async markDeleted(): Promise<DoResult<null>> {
    const result = this.#write(() => {
      const row = this.#requireStream();
      const now = Date.now();
      this.#store.updateStream({ deleted_at: now, purge_pending: 1 });
      this.#event(now, 'deleted', { status: row.status });
      this.#store.bumpRegistryVersion();
    });
    if (!result.ok) return result;
    // The `deleted` event went out with the write; nothing will follow, so the feed ends here.
    this.#feed.closeAll(1000, 'stream deleted');
    await this.#afterChange();
    return ok(null);
  }

  /** Replaces the key's hash; the old key fails from the next publish on. */
  rotateKey(keyHash: string): DoResult<null> {
    return this.#write(() => {
      this.#requireStream();
      this.#store.updateStream({ key_hash: keyHash });
      this.#event(Date.now(), 'key_rotated', {});
      return null;
    });
  }

  /** Appends an event raised outside the stream's own lifecycle (`cdn_health` from CdnHealth). */
  recordEvent(type: ExternalEventType, data: Record<string, unknown>): DoResult<null> {
    return this.#write(() => {
      this.#requireStream();
      this.#event(Date.now(), type, data); // on the feed too, once committed
      return null;
    });
  }

  /** Events after `since`, oldest first. */
  events(since: number, limit: number): DoResult<{ events: StreamEventView[]; nextSince: number; hasMore: boolean }> {
    const row = this.#existing();
    if (!row.ok) return row;
    const events = this.#store.events(since, limit).map(eventView);
    return ok({ events, nextSince: events.length ? events[events.length - 1]!.seq : since, hasMore: events.length === limit });
  }

  /** Checks a publish (key hash, status, codecs, competing publisher) and opens a new epoch. */
  async publish(req: { keyHash: string; nodeId: string; source: SourceInfo; takeover?: { previousEpoch: number } }): Promise<DoResult<PublishGrant>> {
    let row = this.#store.stream();
    // A deleted stream answers like an unknown one: the key simply does not work any more.
    if (!row || row.deleted_at !== null) return fail('stream_key_invalid', KEY_INVALID_MESSAGE);
    const now = Date.now();
    // The grace window may have run out before the alarm got to it: expire first, then judge.
    if (this.#graceExpired(row, now)) {
      const expired = row;
      this.#write(() => this.#expire(expired, now));
      row = this.#store.stream()!;
      await this.#afterChange();
    }
    const current = row;
    const refusal = publishRefusal(
      { id: row.id, status: row.status as StreamStatus, keyMatches: timingSafeEqualHex(row.key_hash, req.keyHash), publisherFresh: this.#fresh(row, now), nodeId: row.node_id, epoch: row.epoch },
      req.source,
      req.takeover,
    );
    if (refusal) {
      this.#write(() => this.#event(now, 'publish_refused', { reason: refusal.reason, code: refusal.code, nodeId: req.nodeId, source: req.source }));
      return fail(refusal.code, refusal.message);
    }
    const result = this.#write(() => {
      const row = current;
      let status = row.status as StreamStatus;
      if (status === 'live') {
        // The previous publisher went silent before the alarm noticed, or a cluster takeover replaces
        // its epoch: fail it first, then take over (live → error → live).
        const takeover = req.takeover ? `taken over by node ${req.nodeId} from epoch ${req.takeover.previousEpoch}` : undefined;
        status = this.#applyFailure(row, now, {
          reason: takeover ? 'origin_taken_over' : 'origin_silent',
          message: takeover ?? 'superseded by a new publish after the origin went silent',
          at: now,
        });
      }
      const failedAt = status === 'error' ? (errorSince(this.#store.stream()!) ?? now) : null;
      const next = this.#transition(status, 'publish');
      const epoch = row.epoch + 1;
      this.#store.updateStream({
        status: next,
        epoch,
        node_id: req.nodeId,
        source: JSON.stringify(req.source),
        metrics: null,
        started_at: row.started_at ?? now,
        last_activity_at: now,
        last_heartbeat_at: null,
      });
      this.#event(now, 'publish_accepted', { epoch, nodeId: req.nodeId, source: req.source });
      // Same stream, same playback URLs: the playlists mark the gap with EXT-X-DISCONTINUITY.
      if (failedAt !== null) this.#event(now, 'reconnected', { epoch, afterMs: now - failedAt });
      this.#event(now, 'live', { epoch });
      this.#store.bumpRegistryVersion();
      return { streamId: row.id, epoch, ladder: JSON.parse(row.ladder) as Ladder, segmentSeconds: row.segment_seconds, firstMsn: this.#store.nextMsn() };
    });
    if (result.ok) await this.#afterChange();
    return result;
  }

  /** A rendition's init segment for the current epoch is stored. */
  announceRendition(a: RenditionAnnounce): DoResult<{ status: StreamStatus; epoch: number }> {
    return this.#announce(a.epoch, (row, now) => {
      this.#store.upsertRendition(a.epoch, a.rendition);
      this.#store.updateStream({ last_activity_at: now });
      return { status: row.status as StreamStatus, epoch: row.epoch };
    });
  }

  /** Segments are stored: index them (idempotent for a retried announce) and update rendition totals. */
  announceSegments(a: SegmentAnnounce): DoResult<{ status: StreamStatus; epoch: number; stored: number }> {
    return this.#announce(a.epoch, (row, now) => {
      let stored = 0;
      let targetDuration = row.target_duration;
      for (const s of a.segments) {
        const rendition = this.#store.rendition(s.rendition);
        if (!rendition || rendition.epoch !== a.epoch) {
          throw new EdgeliveError('conflict', `rendition ${s.rendition} has no init segment announced in epoch ${a.epoch}`);
        }
        const existing = this.#store.segment(s.rendition, s.msn);
        if (existing) {
          if (existing.epoch === a.epoch && existing.file === s.file) continue;
          throw new EdgeliveError('conflict', `segment ${s.msn} of ${s.rendition} is already stored by epoch ${existing.epoch}`);
        }
        this.#store.insertSegment({ ...s, epoch: a.epoch, initFile: rendition.init_file });
        targetDuration = Math.max(targetDuration, Math.round(s.duration));
        stored++;
      }
      // Target duration never shrinks (RFC 8216bis §6.2.1: it must not change during a stream).
      this.#store.updateStream({ last_activity_at: now, target_duration: targetDuration });
      return { status: row.status as StreamStatus, epoch: row.epoch, stored };
    });
  }

  /** The transcoder is alive; keep its ingest metrics. */
  async heartbeat(a: HeartbeatAnnounce): Promise<DoResult<{ status: StreamStatus; epoch: number }>> {
    const result = this.#announce(a.epoch, (row, now) => {
      this.#store.updateStream({ last_activity_at: now, last_heartbeat_at: now, metrics: JSON.stringify(a.metrics) });
      return { status: row.status as StreamStatus, epoch: row.epoch };
    });
    if (result.ok) await this.#scheduleSnapshot();
    return result;
  }

  /**
   * One isolate's batch of viewer sessions and QoE beacons (at most one a second per isolate):
   * updates sessions, peak and QoE sums, and logs viewer milestones and quality switches.
   */
  async recordViewers(batch: ViewerBatch): Promise<DoResult<{ current: number }>> {
    const result = this.#write(() => {
      const row = this.#requireStream();
      const now = Date.now();
      this.#audience.recordSessions(batch.sessions);
      this.#audience.addQoe(batch.qoe);
      const { current } = this.#audience.counts(now, this.#viewerWindowMs(row));
      const before = this.#audience.raisePeak(current);
      for (const m of VIEWER_MILESTONES) if (before < m && current >= m) this.#event(now, 'viewer_milestone', { viewers: m, peak: current });
      const switches = Object.values(batch.qoe.switches).reduce((a, b) => a + b, 0);
      if (switches > 0) this.#event(now, 'quality_switch', { count: switches, switches: batch.qoe.switches });
      if (now - this.#lastSessionPruneAt > 60_000) {
        this.#lastSessionPruneAt = now;
        this.#audience.pruneSessions(now - Math.max(SESSION_FORGET_MS, 2 * this.#viewerWindowMs(row)));
      }
      return { current };
    });
    if (result.ok) await this.#scheduleSnapshot();
    return result;
  }

  /** The analytics feed: the Worker has checked auth and forwards the WebSocket upgrade here. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return errorResponse('bad_request', 'expected a WebSocket upgrade', 426);
    const row = this.#existing();
    if (!row.ok) return errorResponse(row.code, row.message, 404);
    const url = new URL(request.url);
    const since = url.searchParams.get('since');
    const missed = since === null ? [] : this.#store.events(Number(since), MAX_REPLAYED_EVENTS).map(eventView);
    const now = Date.now();
    const attachment: ConsumerAttachment = { streamId: row.value.id, connectedAt: now, auth: request.headers.get('x-edgelive-feed-auth') ?? 'unknown' };
    const response = this.#feed.accept(attachment, this.#snapshotBody(row.value, now), missed, now);
    if (this.#snapshotWanted(row.value, now)) await this.#scheduleSnapshot();
    return response;
  }

  /** Consumers are read-only; anything but the auto-answered `ping` is ignored. */
  override webSocketMessage(_ws: WebSocket, _message: string | ArrayBuffer): void {}

  /** Completes the closing handshake of a consumer that left. */
  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    try {
      // 1005/1006 describe a close without a frame; they may not be sent back.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  /** A consumer's socket failed; the runtime drops it from getWebSockets(). */
  override webSocketError(_ws: WebSocket, error: unknown): void {
    console.warn('analytics feed: consumer socket error', error);
  }

  /**
   * The broadcast is over: live → ended when the broadcaster stopped; live → error (resumable) when
   * the pipeline failed or the node went down under it.
   */
  async end(a: EndAnnounce): Promise<DoResult<{ status: StreamStatus; epoch: number }>> {
    const result = this.#announce(a.epoch, (row, now) => {
      let status: StreamStatus;
      if (a.reason !== 'publisher_stopped') {
        const message = a.message ?? (a.reason === 'node_shutdown' ? 'the origin node shut down' : 'the transcoder failed');
        status = this.#applyFailure(row, now, { reason: a.reason, message, at: now });
      } else {
        status = this.#transition(row.status as StreamStatus, 'end');
        this.#store.updateStream({ status, ended_at: now });
        this.#event(now, 'ended', { epoch: row.epoch, reason: a.reason, ...(a.message ? { message: a.message } : {}) });
      }
      this.#store.bumpRegistryVersion();
      return { status, epoch: row.epoch };
    }, 'end');
    if (result.ok) await this.#afterChange();
    return result;
  }

  /** Renditions and status for the master playlist. */
  masterPlaylist(): DoResult<MasterPlaylistData> {
    const row = this.#existing();
    if (!row.ok) return row;
    const { status, ended_at, dvr_window_seconds } = row.value;
    return ok({ status: status as StreamStatus, endedAt: ended_at, dvrWindowSeconds: dvr_window_seconds, renditions: this.#store.renditions().map(renditionView) });
  }

  /** The last `windowSegments` segments of a rendition and what the playlist header needs. */
  mediaPlaylist(rendition: string, windowSegments: number): DoResult<MediaPlaylistData> {
    const row = this.#existing();
    if (!row.ok) return row;
    if (!this.#store.rendition(rendition)) return fail('not_found', `stream ${row.value.id} has no rendition ${rendition}`);
    const segments = this.#store.segmentWindow(rendition, windowSegments);
    const first = segments[0];
    return ok({
      status: row.value.status as StreamStatus,
      endedAt: row.value.ended_at,
      dvrWindowSeconds: row.value.dvr_window_seconds,
      targetDuration: row.value.target_duration,
      discontinuitySequence: first ? this.#store.discontinuitiesThrough(rendition, first.msn) : 0,
      segments: segments.map(segmentInfo),
    });
  }

  /**
   * Liveness timeout, grace expiry, event pruning, media purge after delete, registry retries and
   * feed snapshots; safe to run more than once (alarms are at-least-once).
   */
  override async alarm(): Promise<void> {
    const row = this.#store.stream();
    if (!row) return;
    const now = Date.now();
    if (row.status === 'live' && row.deleted_at === null && !this.#fresh(row, now)) {
      this.#write(() => {
        const message = `no heartbeat or announce for ${this.#settings.livenessTimeoutSeconds}s`;
        this.#applyFailure(row, now, { reason: 'origin_silent', message, at: now });
        this.#store.bumpRegistryVersion();
      });
    } else if (row.deleted_at === null && this.#graceExpired(row, now)) {
      this.#write(() => this.#expire(row, now));
    }
    this.#store.pruneEvents(now - this.#settings.eventRetentionSeconds * 1000);
    if (row.purge_pending === 1) await purgeMedia(this.env.MEDIA, row.id, this.#store);
    const fresh = this.#store.stream();
    if (fresh && this.#feed.consumers > 0) this.#feed.publishSnapshot(fresh.id, this.#snapshotBody(fresh, now), now);
    await this.#afterChange();
  }

  /** The feed snapshot of the stream now. */
  #snapshotBody(row: StreamRow, now: number): SnapshotBody {
    return snapshotBody(row, { viewers: this.#audience.counts(now, this.#viewerWindowMs(row)), qoe: this.#audience.qoe() });
  }

  #viewerWindowMs(row: StreamRow): number {
    return VIEWER_WINDOW_TARGETS * row.target_duration * 1000;
  }

  #graceExpired(row: StreamRow, now: number): boolean {
    const since = errorSince(row);
    return since !== null && now - since >= this.#settings.resumeGraceSeconds * 1000;
  }

  /** error → ended once the grace window ran out. Must run inside a write. */
  #expire(row: StreamRow, now: number): void {
    const status = this.#transition(row.status as StreamStatus, 'expire');
    this.#store.updateStream({ status, ended_at: now });
    this.#event(now, 'ended', { epoch: row.epoch, reason: 'grace_expired' });
    this.#store.bumpRegistryVersion();
  }

  /** Appends an event inside a write; it reaches the feed once the write commits. */
  #event(now: number, type: string, data: Record<string, unknown>): void {
    this.#pendingEvents.push(this.#store.appendEvent(now, type, data));
  }

  /** Arms the alarm for the next snapshot if consumers are connected and it would fire later. */
  async #scheduleSnapshot(): Promise<void> {
    if (this.#feed.consumers === 0) return;
    const due = this.#feed.snapshotDueAt(Date.now());
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due) await this.ctx.storage.setAlarm(due);
  }

  #fresh(row: StreamRow, now: number): boolean {
    return row.last_activity_at !== null && now - row.last_activity_at < this.#settings.livenessTimeoutSeconds * 1000;
  }

  /** live → error with a reason; returns the new status. Must run inside a write. */
  #applyFailure(row: StreamRow, now: number, error: LastError): StreamStatus {
    const status = this.#transition(row.status as StreamStatus, 'fail');
    this.#store.updateStream({ status, last_error: JSON.stringify(error) });
    this.#event(now, 'error', { epoch: row.epoch, reason: error.reason, message: error.message });
    return status;
  }

  #transition(from: StreamStatus, event: LifecycleEvent): StreamStatus {
    const to = transition(from, event);
    if (to instanceof EdgeliveError) {
      this.#refusedTransition = { from, event, message: to.message };
      throw to;
    }
    return to;
  }

  /** Common checks of every origin announce: stream exists, epoch is current, stream is live. */
  #announce<T>(epoch: number, apply: (row: StreamRow, now: number) => T, lifecycle?: LifecycleEvent): DoResult<T> {
    return this.#write(() => {
      const row = this.#requireStream();
      if (epoch !== row.epoch) throw new EdgeliveError('stale_epoch', `epoch ${epoch} is not the current epoch ${row.epoch}`);
      if (row.status !== 'live') {
        const message = `stream ${row.id} is ${row.status}, not live: announces are refused`;
        // An `end` here is a lifecycle transition the state machine would refuse: log it as one.
        if (lifecycle) this.#refusedTransition = { from: row.status as StreamStatus, event: lifecycle, message };
        throw new EdgeliveError('invalid_transition', message);
      }
      return apply(row, Date.now());
    });
  }

  #existing(): DoResult<StreamRow> {
    const row = this.#store.stream();
    return row && row.deleted_at === null ? ok(row) : fail('stream_not_found', 'stream not found');
  }

  /** The stream row, or a thrown `stream_not_found` (for use inside writes). */
  #requireStream(): StreamRow {
    const row = this.#existing();
    if (!row.ok) throw new EdgeliveError(row.code, row.message);
    return row.value;
  }

  /** Runs `fn` as one SQLite transaction; a thrown EdgeliveError rolls it back and becomes the answer. */
  #write<T>(fn: () => T): DoResult<T> {
    this.#pendingEvents = [];
    this.#refusedTransition = null;
    try {
      const value = this.ctx.storage.transactionSync(fn);
      this.#publishPending();
      return ok(value);
    } catch (err) {
      this.#pendingEvents = [];
      // Set by #transition inside fn; TypeScript cannot see that through the callback.
      const refused = this.#refusedTransition as RefusedTransition | null;
      this.#refusedTransition = null;
      if (refused) {
        // The change was rolled back; the refusal itself is worth keeping.
        console.warn(`stream transition refused: ${refused.message}`);
        this.ctx.storage.transactionSync(() => this.#event(Date.now(), 'transition_refused', { ...refused }));
        this.#publishPending();
      }
      if (err instanceof EdgeliveError) return fail(err.code, err.message);
      throw err;
    }
  }

  /** Sends the committed write's events to the feed (only now: written before broadcast). */
  #publishPending(): void {
    const events = this.#pendingEvents;
    this.#pendingEvents = [];
    const id = this.#store.stream()?.id;
    if (id) this.#feed.publishEvents(id, events, Date.now());
  }

  /**
   * Whether the feed needs another snapshot tick: consumers are connected and the state changed, or
   * may change without a call (live ingest, viewers ageing out of the window).
   */
  #snapshotWanted(row: StreamRow, now: number): boolean {
    if (this.#feed.consumers === 0 || row.deleted_at !== null) return false;
    const body = this.#snapshotBody(row, now);
    return row.status === 'live' || body.viewers.current > 0 || this.#feed.changed(body);
  }

  /** Tells the registry about the change, then sets (or clears) the one alarm. */
  async #afterChange(): Promise<void> {
    await reportToRegistry(this.env, this.#store);
    const row = this.#store.stream();
    const now = Date.now();
    const at = row
      ? nextAlarmAt(row, now, {
          livenessMs: this.#settings.livenessTimeoutSeconds * 1000,
          graceMs: this.#settings.resumeGraceSeconds * 1000,
          retentionMs: this.#settings.eventRetentionSeconds * 1000,
          oldestEventTs: this.#store.oldestEventTs(),
          snapshotDueAt: this.#snapshotWanted(row, now) ? this.#feed.snapshotDueAt(now) : null,
        })
      : null;
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }
}

function errorResponse(code: ErrorBody['error']['code'], message: string, status: number): Response {
  return Response.json({ error: { code, message } } satisfies ErrorBody, { status, headers: { 'Cache-Control': 'no-store' } });
}
