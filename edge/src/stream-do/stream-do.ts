import { DurableObject } from 'cloudflare:workers';
import type { EndAnnounce, HeartbeatAnnounce, PartAnnounce, PublishGrant, RenditionAnnounce, SegmentAnnounce, UpdateStreamInput } from '../../../shared/src/schemas.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import type { Env } from '../env.ts';
import { readStreamMetrics } from '../metrics/read-stream-metrics.ts';
import { parseSettings, type Settings } from '../settings.ts';
import { unpackBatch, type PackedViewerBatch } from '../viewers/packed-batch.ts';
import { AudienceStore } from './audience-store.ts';
import { segmentRowsKept } from './append-segments.ts';
import { fail, ok, type DoResult } from './do-result.ts';
import { existingStream, requireStream } from './existing-stream.ts';
import { StreamFeed } from './stream-feed.ts';
import { dashManifestData, type DashManifestData } from './dash-data.ts';
import { blockingEdge, lowLatencyData, renditionEdge, tooFarAhead, holdsRequested, type BlockingRequest } from './low-latency-playlist.ts';
import { PartIndex } from './part-index.ts';
import { PlaylistWaiters } from './playlist-waiters.ts';
import { PlaylistPush, type PlaylistPushMessage, type PushedRendition } from './playlist-push.ts';
import { StreamFanout } from './stream-fanout.ts';
import type { PartitionCounts } from '../fanout/partition-counter.ts';
import { relayShardName } from '../fanout/shard-names.ts';
import type { QoeDelta, SessionSeen } from '../viewers/viewer-batch.ts';
import { parseFanoutSettings } from '../fanout/fanout-settings.ts';
import { masterPlaylistData, mediaPlaylistData, type MasterPlaylistData, type MediaPlaylistData } from './playlist-data.ts';
import { KEY_INVALID_MESSAGE, publishRefusal } from './publish-policy.ts';
import { endByApi, rotateKey, updateSettings } from './stream-admin.ts';
import { checkAnnounce, resumeStream, storeHeartbeat, storeRendition, storeSegments, type AnnounceAck, type AnnounceKind } from './stream-announces.ts';
import { StreamAudience } from './stream-audience.ts';
import { acceptPublish, createStream, deleteStream, endBroadcast, expireWindow, isWindowExpired, logPublishRefusal, publishState, type PublishRequest } from './stream-lifecycle.ts';
import type { StreamRow } from './stream-schema.ts';
import { StreamStore, type NewStream } from './stream-store.ts';
import { StreamUpkeep, streamTimeouts, type StreamTimeouts } from './stream-upkeep.ts';
import { eventPage, streamView, type EventPage, type StreamView } from './stream-view.ts';
import type { RecordingView } from '../recordings/stream-recordings.ts';
import type { VodDownload, VodMasterData, VodMediaData } from '../recordings/vod-data.ts';
import { StreamWriter, type WriteContext } from './stream-writer.ts';
import { RefusalLog } from './refusal-log.ts';
import { timingSafeEqualHex } from '../../../shared/src/keys/stream-key.ts';
import { RecordingsRpc, type RecordingOptions } from '../recordings/recordings-rpc.ts';
import type { AnalyticsRange, FleetAnalyticsPoint } from '../../../shared/src/analytics/analytics-query.ts';
import { fleetAnalyticsStub } from '../analytics/fleet-analytics.ts';
import { foldMinutes } from '../analytics/minute-rollup.ts';
import { AnalyticsRollups } from './analytics-rollups.ts';
import { servedAfterEndMs } from '../playback/render-playlists.ts';
import { sessionForgetBefore, viewerWindowMs } from './stream-audience.ts';
import { WebhookOutbox } from '../webhooks/webhook-outbox.ts';
import { webhookHubStub } from '../webhooks/webhook-hub.ts';

/** Calls a StreamDO answered for viewers, by method (`viewerCalls`: the scale simulation, tests). */
export interface ViewerCalls {
  subscribePlaylists: number;
  /** Of those, subscriptions from isolates (not relay shards). */
  isolateSubscriptions: number;
  recordViewers: number;
  mediaPlaylist: number;
  recordRelayCounts: number;
}

/** Event types other objects may write into a stream's log (`recordEvent`). */
export type ExternalEventType = 'cdn_health';

/**
 * One Durable Object per stream (named by the stream id): the authority for its lifecycle, key,
 * epoch (fencing token), segment index and event log. Every state change is written in one
 * `transactionSync` before the caller gets an answer; the registry is told afterwards. The RPC
 * methods here only sequence the modules that hold the logic (lifecycle, announces, audience,
 * playlist data, feed, upkeep).
 */
export class StreamDO extends DurableObject<Env> {
  readonly #store: StreamStore;
  readonly #audience: StreamAudience;
  readonly #feed: StreamFeed;
  readonly #writer: StreamWriter;
  readonly #upkeep: StreamUpkeep;
  readonly #timeouts: StreamTimeouts;
  readonly #settings: Settings;
  /** Recordings, DVR retention and storage accounting (recordings/). */
  readonly #media: RecordingsRpc;
  /** LL-HLS parts the origin holds (memory only) and the playlist requests blocked on them. */
  readonly #parts = new PartIndex();
  readonly #waiters = new PlaylistWaiters();
  /** Subscribed isolates get every rendition's playlist data on each change (playlist-push.ts). */
  readonly #playlistPush = new PlaylistPush((windowSegments) => this.#pushState(windowSegments));
  /** The fan-out tier's side here (stream-fanout.ts): whether it is engaged (told to isolates with the push), relay counts, transitions. */
  readonly #fanout: StreamFanout;
  /** Calls this object answered for viewers, for the scale simulation (`viewerCalls`). */
  readonly #viewerCalls: ViewerCalls = { subscribePlaylists: 0, isolateSubscriptions: 0, recordViewers: 0, mediaPlaylist: 0, recordRelayCounts: 0 };
  readonly #audienceStore: AudienceStore;
  /** Per-minute analytics history (analytics-rollups.ts), pushed to the fleet as minutes close. */
  readonly #rollups: AnalyticsRollups;
  /** Hands committed lifecycle events to the WebhookHub without waiting on it (webhooks/). */
  readonly #webhooks: WebhookOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#settings = parseSettings(env);
    this.#timeouts = streamTimeouts(this.#settings);
    this.#media = new RecordingsRpc(ctx.storage.sql, env, this.#settings);
    this.#store = new StreamStore(ctx.storage.sql, this.#media.indexHooks(() => this.#store.stream()));
    const audienceStore = new AudienceStore(ctx.storage.sql);
    this.#audienceStore = audienceStore;
    this.#audience = new StreamAudience(audienceStore);
    const push = this.#playlistPush;
    this.#feed = new StreamFeed(ctx, { store: this.#store, audience: this.#audience }, () => audienceStore.nextFeedSeq(), {
      send: (text) => push.sendFeed(text),
      get count() {
        return push.feedSubscribers;
      },
    });
    this.#fanout = new StreamFanout({
      env,
      settings: parseFanoutSettings(env),
      stream: () => {
        const row = this.#store.stream();
        return row ? { id: row.id, viewerWindowMs: viewerWindowMs(row.target_duration) } : null;
      },
      audienceStore,
      audience: this.#audience,
      write: (fn) => void this.#writer.write(fn),
      changed: () => this.#playlistPush.changed(),
      waitUntil: (work) => ctx.waitUntil(work),
    });
    this.#webhooks = new WebhookOutbox({ sql: ctx.storage.sql, source: this.#store, sink: () => webhookHubStub(env), rearm: () => this.#upkeep.afterChange() });
    this.#writer = new StreamWriter(ctx.storage, this.#store, (events) => {
      this.#feed.publishEvents(events);
      this.#webhooks.committed(events);
    });
    const sources = { store: this.#store, audience: this.#audience };
    this.#rollups = new AnalyticsRollups(ctx.storage.sql, {
      retentionMs: this.#settings.analyticsRetentionDays * 86_400_000,
      currentViewers: (at) => {
        const row = this.#store.stream();
        return row ? this.#audience.counts(row, at).current : 0;
      },
      push: async (minutes) => {
        const id = this.#store.stream()?.id;
        if (id) await fleetAnalyticsStub(env).record(id, minutes);
      },
      servedAfterEndMs: (row) => servedAfterEndMs(this.#settings.endedRetentionSeconds, row.dvr_window_seconds),
      rearm: () => void this.#upkeep.afterChange(),
    });
    const duties = [this.#media.upkeepDuty(this.#store, this.#writer), this.#rollups.duty(), this.#webhooks];
    this.#upkeep = new StreamUpkeep({ env, storage: ctx.storage, store: this.#store, writer: this.#writer, feed: this.#feed, timeouts: this.#timeouts, metrics: (now) => readStreamMetrics(sources, now), purge: { mediaDeleteUrl: this.#media.mediaDeleteUrl, originSecret: this.#settings.originSecret }, duties });
    // Keep-alive pings are answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    this.#migrateAudience = () => audienceStore.migrate();
    void ctx.blockConcurrencyWhile(async () => {
      // Only an object that holds a stream gets its schema: one addressed by an id nobody created
      // (or whose stream was deleted and purged) answers `stream_not_found` and writes nothing.
      if (this.#store.hasSchema()) this.#migrate();
    });
  }

  readonly #migrateAudience: () => void;

  #migrate(): void {
    this.#store.migrate({ reconnectWindowSeconds: this.#settings.reconnectWindowSeconds });
    this.#migrateAudience();
    this.#media.migrate();
    this.#rollups.migrate();
    this.#webhooks.migrate();
  }

  /** Creates the stream; refuses if this id already holds one. */
  async create(input: Omit<NewStream, 'createdAt'> & { recording?: RecordingOptions }): Promise<DoResult<StreamView>> {
    this.#migrate();
    const { recording, ...stream } = input;
    const result = this.#writer.write((tx) => {
      createStream(this.#store, tx, stream, Date.now());
      if (recording) this.#media.configure(recording);
    });
    if (!result.ok) return result;
    await this.#upkeep.afterChange();
    return this.describe();
  }

  /** The stream as the management API shows it. */
  describe(): DoResult<StreamView> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    const view = streamView(row.value, this.#store.renditions(), this.#audience.summary(row.value, Date.now()), this.#store.rowCounts());
    return ok(this.#media.describe(view));
  }

  /** The stream's per-minute history folded into the steps of `range` (the minute just ended is closed first). */
  analytics(range: AnalyticsRange): DoResult<FleetAnalyticsPoint[]> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    const now = Date.now();
    this.#rollups.closeDue(now);
    return ok(foldMinutes(this.#rollups.read(range.from - (range.from % range.stepMs), range.to, now), range));
  }

  /** The stream's recordings, newest first. */
  recordings(): DoResult<RecordingView[]> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return ok(this.#media.list());
  }

  /** One recording. */
  recording(id: string): DoResult<RecordingView> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return this.#media.one(id);
  }

  /** Deletes a recording: playback stops at once, its objects and rows are purged by the alarm. */
  async deleteRecording(id: string): Promise<DoResult<RecordingView>> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    const result = this.#media.delete(this.#writer, id);
    await this.#upkeep.afterChange();
    return result;
  }

  /** A ready recording's VOD master playlist data. */
  vodMaster(id: string): DoResult<VodMasterData> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return this.#media.vodMaster(id, this.#store.renditions());
  }

  /** A ready recording's VOD media playlist data for one rendition. */
  vodMedia(id: string, rendition: string): DoResult<VodMediaData> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return this.#media.vodMedia(id, rendition);
  }

  /** The objects of a ready recording's MP4 download (top rendition: init, then every stored segment). */
  vodDownload(id: string): DoResult<VodDownload> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return this.#media.download(id, row.value.id, this.#store.renditions());
  }

  /** Renames the stream or changes its reconnect window (a waiting stream's deadline moves with it). */
  async update(input: UpdateStreamInput): Promise<DoResult<StreamView>> {
    const result = this.#writer.write((tx) => {
      requireStream(this.#store.stream());
      updateSettings(this.#store, tx, Date.now(), input);
    });
    if (!result.ok) return result;
    this.#playlistPush.changed();
    await this.#upkeep.afterChange();
    return this.describe();
  }

  /** Ends a live, reconnecting or failed stream at once; its publisher is refused at its next heartbeat. */
  async endNow(): Promise<DoResult<StreamView>> {
    const result = this.#writer.write((tx) => endByApi(this.#store, tx, requireStream(this.#store.stream()), Date.now()));
    if (!result.ok) return result;
    this.#waiters.wake(); // blocked playlist requests get the final playlist
    this.#playlistPush.changed();
    await this.#upkeep.afterChange();
    return this.describe();
  }

  /** Tombstones the stream: playback and keys fail at once, media objects are purged in the background. */
  async markDeleted(): Promise<DoResult<null>> {
    const result = this.#writer.write((tx) => deleteStream(this.#store, tx, requireStream(this.#store.stream()), Date.now()));
    if (!result.ok) return result;
    // The `deleted` event went out with the write; nothing will follow, so the feed ends here.
    this.#feed.closeAll(1000, 'stream deleted');
    this.#playlistPush.changed();
    await this.#upkeep.afterChange();
    return ok(null);
  }

  /** Replaces the key's hash and fences a publish running on the old key (`rotateKey`). */
  async rotateKey(keyHash: string): Promise<DoResult<null>> {
    const result = this.#writer.write((tx) => rotateKey(this.#store, tx, requireStream(this.#store.stream()), Date.now(), keyHash));
    if (!result.ok) return result;
    this.#playlistPush.changed();
    await this.#upkeep.afterChange();
    return ok(null);
  }

  /** Appends an event raised outside the stream's own lifecycle (`cdn_health` from CdnHealth). */
  recordEvent(type: ExternalEventType, data: Record<string, unknown>): DoResult<null> {
    return this.#writer.write((tx) => {
      requireStream(this.#store.stream());
      tx.event(Date.now(), type, data); // on the feed too, once committed
      return null;
    });
  }

  /** Events after `since`, oldest first. */
  events(since: number, limit: number): DoResult<EventPage> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return ok(eventPage(this.#store.events(since, limit), since, limit));
  }

  /** Checks a publish (key hash, status, codecs, competing publisher) and opens a new epoch. */
  async publish(req: PublishRequest): Promise<DoResult<PublishGrant>> {
    let row = this.#store.stream();
    // A deleted stream answers like an unknown one: the key simply does not work any more.
    if (!row || row.deleted_at !== null) return fail('stream_key_invalid', KEY_INVALID_MESSAGE);
    const now = Date.now();
    // The reconnect window may have run out before the alarm got to it: expire first, then judge.
    if (isWindowExpired(row, now)) {
      const expired = row;
      this.#writer.write((tx) => expireWindow(this.#store, tx, expired, now));
      row = this.#store.stream()!;
      await this.#upkeep.afterChange();
    }
    const current = row;
    const refusal = publishRefusal(publishState(current, req.keyHash, now, this.#timeouts.livenessMs), req.source, req.takeover);
    if (refusal) {
      this.#logRefusal(now, (tx, count) => logPublishRefusal(tx, now, refusal, req, count));
      return fail(refusal.code, refusal.message);
    }
    const result = this.#writer.write((tx) => acceptPublish(this.#store, tx, current, now, req));
    this.#playlistPush.changed();
    if (result.ok) await this.#upkeep.afterChange();
    return result;
  }

  /**
   * The cheap check an origin makes before it takes a lease or a capacity slot: does this key open
   * this stream? A wrong key is logged (aggregated, at most one event a minute) and refused.
   */
  checkKey(keyHash: string, nodeId: string): DoResult<{ streamId: string }> {
    const row = this.#store.stream();
    if (!row || row.deleted_at !== null) return fail('stream_key_invalid', KEY_INVALID_MESSAGE);
    if (!timingSafeEqualHex(row.key_hash, keyHash)) {
      const now = Date.now();
      this.#logRefusal(now, (tx, count) => tx.event(now, 'publish_refused', { reason: 'key_mismatch', code: 'stream_key_invalid', nodeId, count }));
      return fail('stream_key_invalid', KEY_INVALID_MESSAGE);
    }
    return ok({ streamId: row.id });
  }

  readonly #refusals = new RefusalLog();

  #logRefusal(now: number, write: (tx: WriteContext, count: number) => void): void {
    const count = this.#refusals.admit(now);
    if (count !== null) this.#writer.write((tx) => write(tx, count));
  }

  /** A rendition's init segment for the current epoch is stored. */
  announceRendition(a: RenditionAnnounce): Promise<DoResult<AnnounceAck>> {
    return this.#announce(a.epoch, 'rendition', (_tx, row, now) => storeRendition(this.#store, row, now, a));
  }

  /** Segments are stored (or given up): append them to the index, gaps filled, old rows pruned. */
  announceSegments(a: SegmentAnnounce): Promise<DoResult<AnnounceAck & { stored: number; skipped: number }>> {
    return this.#announce(a.epoch, 'segments', (tx, row, now) => {
      const keep = segmentRowsKept(this.#settings.playlistWindowSegments, row.dvr_window_seconds, row.segment_seconds);
      return storeSegments(this.#store, tx, row, now, a, keep);
    });
  }

  /**
   * LL-HLS parts are ready in the origin's memory: index them and answer the playlist requests
   * blocked on them. Nothing is written to storage (see PartIndex); the epoch is checked like any
   * announce. `at`: when the object took them (its clock), so a caller can tell the announce's way in
   * from what follows (the scale simulation splits its push delay there).
   */
  announceParts(a: PartAnnounce): DoResult<{ added: number; at: number }> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    if (a.epoch !== row.value.epoch) return fail('stale_epoch', `epoch ${a.epoch} is not the current epoch ${row.value.epoch}`);
    if (row.value.status === 'ended' || row.value.status === 'idle') return fail('invalid_transition', `stream ${row.value.id} is ${row.value.status}: parts are refused`);
    const added = this.#parts.add(a.parts);
    this.#waiters.wake();
    this.#playlistPush.changed();
    return ok({ added, at: Date.now() });
  }

  /** The transcoder is alive; keep its ingest metrics. */
  async heartbeat(a: HeartbeatAnnounce): Promise<DoResult<AnnounceAck>> {
    const result = await this.#announce(a.epoch, 'heartbeat', (_tx, row, now) => storeHeartbeat(this.#store, row, now, a));
    // A new minute needs the alarm at its end to close it.
    if (result.ok && this.#rollups.heartbeat(Date.now(), a.metrics.bitrateKbps)) await this.#upkeep.afterChange();
    if (result.ok) await this.#feed.scheduleSnapshot();
    return result;
  }

  /**
   * One isolate's batch of viewer sessions and QoE beacons (at most one a second per isolate):
   * updates sessions, peak and QoE sums, and logs viewer milestones and quality switches.
   */
  async recordViewers(packed: PackedViewerBatch, from?: { source: string; isolates: number }): Promise<DoResult<{ current: number; fanout: boolean }>> {
    const now = Date.now();
    const batch = unpackBatch(packed);
    this.#viewerCalls.recordViewers++;
    if (from) this.#fanout.observe(from.source, from.isolates);
    // While the tier is engaged, a batch that still comes here goes to the relay shards too.
    const relaysCount = this.#audience.relaysCount;
    this.#fanout.passOn(batch.sessions, relaysCount);
    // The minute that just ended closes before this batch moves the sessions it reads.
    if (this.#store.stream()) this.#rollups.closeDue(now);
    const result = this.#writer.write((tx) => this.#audience.record(tx, requireStream(this.#store.stream()), now, batch));
    if (!result.ok) return result;
    await this.#afterViewers(now, relaysCount ? [] : batch.sessions, result.value.current, batch.qoe, []);
    return ok({ current: result.value.current, fanout: this.#fanout.engaged });
  }

  /**
   * A relay shard's report, every 0.5 s while the tier is engaged: its partition's viewer counts,
   * the sessions it saw first, unique viewers per minute and its beacon sums (partition-counter.ts).
   * Answers the viewer window the relay counts over.
   */
  async recordRelayCounts(relay: number, report: PartitionCounts & { qoe: QoeDelta; isolates: number }): Promise<DoResult<{ windowMs: number; forgetMs: number; fanout: boolean }>> {
    const now = Date.now();
    this.#viewerCalls.recordRelayCounts++;
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    this.#fanout.observe(relayShardName(row.value.id, relay), report.isolates);
    this.#fanout.relayCounts(relay, report.renditions, now);
    this.#rollups.closeDue(now);
    const result = this.#writer.write((tx) => {
      // Sessions a relay saw first have no row here: they join the total as counted elsewhere.
      this.#audienceStore.countElsewhere(report.newSessions);
      return this.#audience.record(tx, requireStream(this.#store.stream()), now, { sessions: [], qoe: report.qoe });
    });
    if (!result.ok) return result;
    await this.#afterViewers(now, [], result.value.current, report.qoe, report.minutes);
    const windowMs = viewerWindowMs(row.value.target_duration);
    return ok({ windowMs, forgetMs: now - sessionForgetBefore(now, row.value.target_duration), fanout: this.#fanout.engaged });
  }

  /** The minute rollup, the alarm for a new minute, and the feed's snapshot after viewers were recorded. */
  async #afterViewers(now: number, sessions: readonly SessionSeen[], current: number, qoe: QoeDelta, uniqueElsewhere: readonly { minute: number; newUnique: number }[]): Promise<void> {
    // ?? 0: a batch from an isolate still on the previous version
    let opened = this.#rollups.viewers(now, { sessions, current, startups: qoe.startups, playedMs: qoe.playedMs, rebufferMs: qoe.rebufferMs, errors: qoe.errors ?? 0 });
    for (const m of uniqueElsewhere) opened = this.#rollups.uniqueElsewhere(now, m.minute, m.newUnique) || opened;
    if (opened) await this.#upkeep.afterChange(); // a new minute needs the alarm at its end
    await this.#feed.scheduleSnapshot();
  }

  /** The analytics feed: the Worker has checked auth and forwards the WebSocket upgrade here. */
  override async fetch(request: Request): Promise<Response> {
    return this.#feed.connect(request);
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
   * This epoch's publish is over: live → reconnecting when the broadcaster left (ended with a window
   * of 0); live → error (resumable) when the pipeline failed or the node went down under it.
   */
  end(a: EndAnnounce): Promise<DoResult<{ status: StreamStatus; epoch: number }>> {
    return this.#announce(a.epoch, 'end', (tx, row, now) => ({ status: endBroadcast(this.#store, tx, row, now, a), epoch: row.epoch }));
  }

  /** Renditions and status for the master playlist. */
  masterPlaylist(): DoResult<MasterPlaylistData> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return ok(masterPlaylistData(row.value, this.#store));
  }

  /** Every rendition's last `windowSegments` segments for the DASH MPD. */
  dashManifest(windowSegments: number): DoResult<DashManifestData> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    return ok(dashManifestData(row.value, this.#store, windowSegments));
  }

  /**
   * The last `windowSegments` segments of a rendition and what the playlist header needs, with
   * LL-HLS parts when the stream has low latency on. A blocking request (`_HLS_msn`, `_HLS_part`)
   * is held until the playlist holds what it asks for (RFC 8216bis §6.2.5.2): 400 at once when it
   * is too far ahead, 503 after three target durations without it; directives are ignored once ended.
   */
  async mediaPlaylist(rendition: string, windowSegments: number, block?: BlockingRequest): Promise<DoResult<MediaPlaylistData>> {
    this.#viewerCalls.mediaPlaylist++;
    const first = this.#mediaPlaylistNow(rendition, windowSegments);
    const row = this.#store.stream();
    if (!first.ok || !block || !row || row.low_latency !== 1 || row.status === 'ended') return first;
    if (holdsRequested(this.#store, this.#parts, rendition, block)) return first;
    const refusal = tooFarAhead(renditionEdge(this.#store, this.#parts, rendition), block, row.part_seconds);
    if (refusal) return fail('bad_request', refusal);
    const timeoutMs = 3 * row.target_duration * 1000;
    const outcome = await this.#waiters.wait(() => this.#store.stream()?.status === 'ended' || holdsRequested(this.#store, this.#parts, rendition, block), timeoutMs);
    if (outcome === 'timeout') return fail('stream_not_ready', `_HLS_msn=${block.msn}${block.part === undefined ? '' : ` _HLS_part=${block.part}`} not made within ${timeoutMs} ms`);
    return this.#mediaPlaylistNow(rendition, windowSegments);
  }

  /**
   * Every rendition's playlist data (`windowSegments` per playlist) now and on each change, for
   * `seconds` (playlist-push.ts): one call per subscriber instead of one per part per rendition.
   */
  subscribePlaylists(windowSegments: number, seconds: number, subscriber?: string, feed = false): ReadableStream<Uint8Array> {
    this.#viewerCalls.subscribePlaylists++;
    // A relay shard's subscription says nothing of how many isolates it serves (its viewer batches do).
    if (subscriber && !subscriber.startsWith('r:')) {
      this.#viewerCalls.isolateSubscriptions++;
      this.#fanout.observe(subscriber, 1);
    }
    const stream = this.#playlistPush.subscribe(windowSegments, seconds, feed ? { snapshot: this.#feed.snapshotText(Date.now()) } : null);
    // A shard now carries feed consumers: snapshots keep going out while it listens.
    if (feed) this.ctx.waitUntil(this.#feed.scheduleSnapshot());
    return stream;
  }

  /** The feed's event messages after `since`, for a consumer reconnecting at a fan-out shard. */
  feedReplay(since: number): string[] {
    return this.#feed.replay(since, Date.now());
  }

  /** Where a new analytics-feed consumer goes: through its location's edge shard while the tier is engaged. */
  feedRoute(): { viaShard: boolean } {
    return { viaShard: this.#fanout.engaged };
  }

  /** Calls answered for viewers since the object started, the isolates it is served from, and whether the tier is engaged (simulation, tests). */
  viewerCalls(): { calls: ViewerCalls; isolates: number; fanout: boolean; relaysCount: boolean; subscribers: number; relayReports: { relay: number; ageMs: number; viewers: number }[] } {
    const now = Date.now();
    return { calls: { ...this.#viewerCalls }, isolates: this.#fanout.isolates(now), fanout: this.#fanout.engaged, relaysCount: this.#audience.relaysCount, subscribers: this.#playlistPush.size, relayReports: this.#fanout.relayReports(now) };
  }

  #pushState(windowSegments: number): PlaylistPushMessage {
    const row = this.#store.stream();
    if (!row || row.deleted_at !== null) return { type: 'gone' };
    if (row.dvr_window_seconds > 0) return { type: 'direct', reason: 'a DVR window is too long to push on every change' };
    // The master's variants are the renditions: read once for both.
    const master = masterPlaylistData(row, this.#store);
    const renditions: Record<string, PushedRendition> = {};
    for (const { name } of master.renditions) {
      const playlist = this.#mediaPlaylistNow(name, windowSegments);
      if (playlist.ok) renditions[name] = { playlist: playlist.value, edge: blockingEdge(this.#store, this.#parts, name) };
    }
    // A copy: the part lists are the part index's own, which grows in place, and the push diffs the next state against this one.
    return structuredClone({ type: 'state', seq: 0, renditions, master, fanout: this.#fanout.engaged });
  }

  #mediaPlaylistNow(rendition: string, windowSegments: number): DoResult<MediaPlaylistData> {
    const row = existingStream(this.#store.stream());
    if (!row.ok) return row;
    const data = mediaPlaylistData(row.value, this.#store, rendition, windowSegments);
    if (!data.ok || row.value.low_latency !== 1) return data;
    const others = this.#store.renditions().map((r) => r.name).filter((name) => name !== rendition);
    data.value.lowLatency = lowLatencyData(this.#store, this.#parts, {
      rendition,
      others,
      segments: data.value.segments,
      partTarget: row.value.part_seconds,
      targetDuration: row.value.target_duration,
      epoch: row.value.epoch,
      live: row.value.status === 'live',
    });
    return data;
  }

  /**
   * Liveness timeout, reconnect window expiry, event pruning, media purge after delete, registry retries and
   * feed snapshots; safe to run more than once (alarms are at-least-once).
   */
  override async alarm(): Promise<void> {
    await this.#upkeep.runAlarm();
    this.#playlistPush.changed(); // a reconnect window that ran out, a liveness timeout
  }

  /**
   * Runs an origin announce as one write, after the checks every announce shares (`checkAnnounce`,
   * which may resume the stream first); a change of status re-arms the alarm and tells the registry.
   */
  async #announce<T>(epoch: number, kind: AnnounceKind, apply: (tx: WriteContext, row: StreamRow, now: number) => T): Promise<DoResult<T>> {
    const version = this.#store.stream()?.registry_version;
    const result = this.#writer.write((tx) => {
      const now = Date.now();
      let row = requireStream(this.#store.stream());
      if (checkAnnounce(row, epoch, kind) === 'resume') row = resumeStream(this.#store, tx, row, now);
      return apply(tx, row, now);
    });
    if (result.ok) {
      this.#waiters.wake();
      this.#playlistPush.changed();
    }
    if (this.#store.stream()?.registry_version !== version) await this.#upkeep.afterChange();
    return result;
  }
}
