import { DurableObject } from 'cloudflare:workers';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { timingSafeEqualHex } from '../../../shared/src/keys/stream-key.ts';
import type { EndAnnounce, HeartbeatAnnounce, PublishGrant, RenditionAnnounce, SegmentAnnounce } from '../../../shared/src/schemas.ts';
import type { Ladder, SegmentInfo, SourceInfo, StreamStatus } from '../../../shared/src/types.ts';
import type { Env } from '../env.ts';
import { parseSettings, type Settings } from '../settings.ts';
import { fail, ok, type DoResult } from './do-result.ts';
import { KEY_INVALID_MESSAGE, publishRefusal } from './publish-policy.ts';
import type { StreamRow } from './stream-schema.ts';
import { transition, type LifecycleEvent } from './stream-state-machine.ts';
import { StreamStore, type NewStream } from './stream-store.ts';
import { nextAlarmAt, purgeMedia, reportToRegistry } from './stream-upkeep.ts';
import { eventView, renditionView, segmentInfo, streamView, type LastError, type RenditionView, type StreamEventView, type StreamView } from './stream-view.ts';

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
  readonly #settings: Settings;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#settings = parseSettings(env);
    this.#store = new StreamStore(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.#store.migrate());
  }

  /** Creates the stream; refuses if this id already holds one. */
  async create(input: Omit<NewStream, 'createdAt'>): Promise<DoResult<StreamView>> {
    const result = this.#write(() => {
      if (this.#store.stream()) throw new EdgeliveError('conflict', `stream ${input.id} already exists`);
      const now = Date.now();
      this.#store.insertStream({ ...input, createdAt: now });
      this.#store.appendEvent(now, 'created', { name: input.name });
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
    return ok(streamView(row.value, this.#store.renditions()));
  }

  /** Tombstones the stream: playback and keys fail at once, media objects are purged in the background. */
  async markDeleted(): Promise<DoResult<null>> {
    const result = this.#write(() => {
      const row = this.#requireStream();
      const now = Date.now();
      this.#store.updateStream({ deleted_at: now, purge_pending: 1 });
      this.#store.appendEvent(now, 'deleted', { status: row.status });
      this.#store.bumpRegistryVersion();
    });
    if (!result.ok) return result;
    await this.#afterChange();
    return ok(null);
  }

  /** Replaces the key's hash; the old key fails from the next publish on. */
  rotateKey(keyHash: string): DoResult<null> {
    return this.#write(() => {
      this.#requireStream();
      this.#store.updateStream({ key_hash: keyHash });
      this.#store.appendEvent(Date.now(), 'key_rotated', {});
      return null;
    });
  }

  /** Appends an event raised outside the stream's own lifecycle (`cdn_health` from CdnHealth). */
  recordEvent(type: ExternalEventType, data: Record<string, unknown>): DoResult<null> {
    return this.#write(() => {
      this.#requireStream();
      this.#store.appendEvent(Date.now(), type, data);
      return null;
    });
  }

  /** Events after `since`, oldest first. */
  events(since: number, limit: number): DoResult<{ events: StreamEventView[]; nextSince: number }> {
    const row = this.#existing();
    if (!row.ok) return row;
    const events = this.#store.events(since, limit).map(eventView);
    return ok({ events, nextSince: events.length ? events[events.length - 1]!.seq : since });
  }

  /** Checks a publish (key hash, status, codecs, competing publisher) and opens a new epoch. */
  async publish(req: { keyHash: string; nodeId: string; source: SourceInfo; takeover?: { previousEpoch: number } }): Promise<DoResult<PublishGrant>> {
    const row = this.#store.stream();
    // A deleted stream answers like an unknown one: the key simply does not work any more.
    if (!row || row.deleted_at !== null) return fail('stream_key_invalid', KEY_INVALID_MESSAGE);
    const now = Date.now();
    const refusal = publishRefusal(
      { id: row.id, status: row.status as StreamStatus, keyMatches: timingSafeEqualHex(row.key_hash, req.keyHash), publisherFresh: this.#fresh(row, now), nodeId: row.node_id, epoch: row.epoch },
      req.source,
      req.takeover,
    );
    if (refusal) {
      this.ctx.storage.transactionSync(() =>
        this.#store.appendEvent(now, 'publish_refused', { reason: refusal.reason, code: refusal.code, nodeId: req.nodeId, source: req.source }),
      );
      return fail(refusal.code, refusal.message);
    }
    const result = this.#write(() => {
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
      this.#store.appendEvent(now, 'publish_accepted', { epoch, nodeId: req.nodeId, source: req.source });
      this.#store.appendEvent(now, 'live', { epoch });
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
  heartbeat(a: HeartbeatAnnounce): DoResult<{ status: StreamStatus; epoch: number }> {
    return this.#announce(a.epoch, (row, now) => {
      this.#store.updateStream({ last_activity_at: now, last_heartbeat_at: now, metrics: JSON.stringify(a.metrics) });
      return { status: row.status as StreamStatus, epoch: row.epoch };
    });
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
        this.#store.appendEvent(now, 'ended', { epoch: row.epoch, reason: a.reason, ...(a.message ? { message: a.message } : {}) });
      }
      this.#store.bumpRegistryVersion();
      return { status, epoch: row.epoch };
    });
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

  /** Liveness timeout, media purge after delete and registry retries; safe to run more than once. */
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
    }
    if (row.purge_pending === 1) await purgeMedia(this.env.MEDIA, row.id, this.#store);
    await this.#afterChange();
  }

  #fresh(row: StreamRow, now: number): boolean {
    return row.last_activity_at !== null && now - row.last_activity_at < this.#settings.livenessTimeoutSeconds * 1000;
  }

  /** live → error with a reason; returns the new status. Must run inside a write. */
  #applyFailure(row: StreamRow, now: number, error: LastError): StreamStatus {
    const status = this.#transition(row.status as StreamStatus, 'fail');
    this.#store.updateStream({ status, last_error: JSON.stringify(error) });
    this.#store.appendEvent(now, 'error', { epoch: row.epoch, reason: error.reason, message: error.message });
    return status;
  }

  #transition(from: StreamStatus, event: LifecycleEvent): StreamStatus {
    const to = transition(from, event);
    if (to instanceof EdgeliveError) throw to;
    return to;
  }

  /** Common checks of every origin announce: stream exists, epoch is current, stream is live. */
  #announce<T>(epoch: number, apply: (row: StreamRow, now: number) => T): DoResult<T> {
    return this.#write(() => {
      const row = this.#requireStream();
      if (epoch !== row.epoch) throw new EdgeliveError('stale_epoch', `epoch ${epoch} is not the current epoch ${row.epoch}`);
      if (row.status !== 'live') throw new EdgeliveError('invalid_transition', `stream ${row.id} is ${row.status}, not live: announces are refused`);
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
    try {
      return ok(this.ctx.storage.transactionSync(fn));
    } catch (err) {
      if (err instanceof EdgeliveError) return fail(err.code, err.message);
      throw err;
    }
  }

  /** Tells the registry about the change, then sets (or clears) the one alarm. */
  async #afterChange(): Promise<void> {
    await reportToRegistry(this.env, this.#store);
    const row = this.#store.stream();
    const at = row ? nextAlarmAt(row, Date.now(), this.#settings.livenessTimeoutSeconds * 1000) : null;
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }
}
