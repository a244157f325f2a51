import type { Logger } from 'pino';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { mediaObjectKey, partFileName, posterFileName, segmentFileName, thumbnailObjectKey } from '../../../shared/src/internal-api.ts';
import type { AnnouncedPart, AnnouncedSegment, PublishGrant } from '../../../shared/src/schemas.ts';
import type { RenditionInfo, SourceInfo } from '../../../shared/src/types.ts';
import type { InitInfo } from '../../../shared/src/mp4/fmp4-init-info.ts';
import type { PackagedPart, PackagedSegment } from '../package/rendition-segmenter.ts';
import { cacheControlFor, contentTypeFor } from '../store/media-headers.ts';
import { sleepUnlessAborted, uploadUntilStored } from '../store/persistent-upload.ts';
import { backoffDelayMs } from '../store/retry-policy.ts';
import type { RecentParts } from '../store/recent-parts.ts';
import type { SegmentStore } from '../store/segment-store.ts';
import { isSegmentStoreError } from '../store/segment-store-error.ts';
import type { TranscodePlan } from '../transcode/ladder-plan.ts';
import type { MediaSink } from '../transcode/transcoder.ts';
import type { EdgeClient } from './edge-client.ts';
import { isEdgeRefusal } from './edge-refusal.ts';
import { renditionInfo } from './rendition-info.ts';

/** The latest thumbnail is replaced every few seconds. */
const LATEST_JPEG = 'public, max-age=5';
/** A poster never changes under its name (one per epoch). */
const IMMUTABLE_JPEG = 'public, max-age=31536000, immutable';

/** Parts wait this long for the other renditions' parts of the same moment, so one call carries them all. */
export const PART_BATCH_MS = 3;

/** Parts waiting for an announce at most; older ones are dropped (their segments follow anyway). */
export const MAX_PENDING_PARTS = 256;

/** Segments one announce carries at most (the internal API's limit). */
export const MAX_SEGMENTS_PER_ANNOUNCE = 64;

/** Limits and pacing of a stream's outbox, from the node's configuration. */
export interface OutboxSettings {
  /** Bytes of media waiting for storage before the oldest segments are given up (listed as gaps). */
  maxQueuedBytes: number;
  /** First wait after a failed upload or announce; doubles up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
}

/** What the outbox reports (implemented with prom-client by the node). */
export interface OutboxMetrics {
  segmentStored(rendition: string, bytes: number, uploadMs: number): void;
  segmentAnnounced(delayMs: number): void;
  /** An LL-HLS part was listed (announce accepted) `delayMs` after it was cut (the oldest part of the call). */
  partAnnounced?(delayMs: number): void;
  /** Bytes of this stream's media waiting for storage now. */
  uploadBacklog(streamId: string, bytes: number | undefined): void;
  /** Segments given up: over the queue cap, or refused by the store. */
  segmentsDropped(count: number, reason: 'queue_full' | 'store_rejected'): void;
  /** A put failed after the store's own retries (it is tried again, or given up when refused); `code` is the SegmentStoreError code. */
  segmentStoreFailed?(code: string): void;
}

/** Why the edge refused what this node announced: the stream is no longer this node's to write. */
export interface OutboxRefusal {
  code: string;
  message: string;
  /** The epoch the refused announce was made under. */
  epoch: number;
}

type EntryState = 'uploading' | 'stored' | 'dropped';
type Entry =
  | { kind: 'init'; epoch: number; info: RenditionInfo; size: number; state: EntryState; abort: AbortController }
  | { kind: 'segment'; epoch: number; rendition: string; segment: Omit<PackagedSegment, 'bytes'>; size: number; state: EntryState; abort: AbortController };

/**
 * Everything a stream made on this node, from ffmpeg's output until the edge has listed it: each
 * init and segment is uploaded under its epoch's key (waiting out a storage outage), then announced
 * in order per rendition (waiting out an edge outage), batched. It outlives one publish: after a
 * reconnect the segments still queued are announced under the stream's newest grant, numbered as
 * they were made. Over `maxQueuedBytes` the oldest unstored segments are given up and announced as
 * gaps, so no media sequence number ever changes meaning.
 */
export class StreamOutbox implements MediaSink {
  readonly #streamId: string;
  readonly #store: SegmentStore;
  readonly #edge: EdgeClient;
  readonly #metrics: OutboxMetrics;
  readonly #settings: OutboxSettings;
  readonly #onRefused: (refusal: OutboxRefusal) => void;
  #log: Logger;
  /** Entries per rendition, in the order they were made; announced ones are removed. */
  readonly #queues = new Map<string, Entry[]>();
  #grant: PublishGrant | undefined;
  #plan: TranscodePlan | undefined;
  #source: SourceInfo | undefined;
  #nextMsn = 0;
  #queuedBytes = 0;
  #cancelled: string | undefined;
  #pumping = false;
  #dirty = false;
  #failures = 0;
  readonly #stop = new AbortController();
  #idleWaiters: (() => void)[] = [];
  /** Epochs whose poster was stored. */
  readonly #posters = new Set<number>();
  #nextThumbnail: Uint8Array | undefined;
  #thumbnailBusy = false;
  /** LL-HLS parts: held in memory for the media route, announced at once (never stored, never queued behind segments). */
  readonly #recentParts: RecentParts | undefined;
  #pendingParts: AnnouncedPart[] = [];
  #partsScheduled = false;
  /** When the oldest part waiting for an announce was cut. */
  #partsSince = 0;

  constructor(opts: {
    streamId: string;
    store: SegmentStore;
    edge: EdgeClient;
    metrics: OutboxMetrics;
    settings: OutboxSettings;
    logger: Logger;
    onRefused: (refusal: OutboxRefusal) => void;
    recentParts?: RecentParts;
  }) {
    this.#recentParts = opts.recentParts;
    this.#streamId = opts.streamId;
    this.#store = opts.store;
    this.#edge = opts.edge;
    this.#metrics = opts.metrics;
    this.#settings = opts.settings;
    this.#log = opts.logger;
    this.#onRefused = opts.onRefused;
  }

  /** A new epoch: announces go out under `grant` from now on, inits are described with `plan` and `source`. */
  begin(grant: PublishGrant, plan: TranscodePlan, source: SourceInfo, logger: Logger): void {
    this.#grant = grant;
    this.#plan = plan;
    this.#source = source;
    this.#log = logger;
    void this.#pump();
  }

  /** One past the highest media sequence number made here (the next epoch must not go below it). */
  get nextMsn(): number {
    return this.#nextMsn;
  }

  /** True when nothing waits to be stored or announced. */
  get idle(): boolean {
    return [...this.#queues.values()].every((q) => q.length === 0);
  }

  /** Bytes waiting for storage. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Why the outbox was cancelled (fenced), or undefined. */
  get cancelled(): string | undefined {
    return this.#cancelled;
  }

  init(epoch: number, rendition: string, bytes: Uint8Array, info: InitInfo): void {
    if (this.#cancelled || !this.#plan || !this.#source) return;
    const described = renditionInfo(epoch, rendition, info, this.#plan, this.#source);
    const entry: Entry = { kind: 'init', epoch, info: described, size: bytes.length, state: 'uploading', abort: new AbortController() };
    this.#add(rendition, entry, bytes, described.initFile);
  }

  segment(epoch: number, rendition: string, segment: PackagedSegment): void {
    if (this.#cancelled) return;
    const grant = this.#grant;
    if (grant && epoch < grant.epoch && segment.msn >= grant.firstMsn) {
      // An older ffmpeg's last output, numbered into the range the newer epoch owns: never listed.
      this.#log.info({ rendition, msn: segment.msn, epoch, current: grant.epoch }, 'dropped a superseded epoch segment that overlaps the new epoch');
      return;
    }
    const { bytes, ...timing } = segment;
    this.#nextMsn = Math.max(this.#nextMsn, segment.msn + 1);
    const entry: Entry = { kind: 'segment', epoch, rendition, segment: timing, size: bytes.length, state: 'uploading', abort: new AbortController() };
    this.#add(rendition, entry, bytes, segmentFileName(segment.msn, epoch));
    this.#evictOverCap();
  }

  /**
   * A thumbnail from ffmpeg: stored as the stream's `latest.jpg` (overwritten, short cache), and
   * the first of each epoch also as `poster-e<epoch>.jpg` (kept as its recording's poster).
   * Thumbnails are not announced: the edge serves the latest by key. Best effort: one upload at a
   * time, a newer thumbnail replaces one still waiting.
   */
  thumbnail(epoch: number, jpeg: Uint8Array): void {
    if (this.#cancelled) return;
    if (!this.#posters.has(epoch)) {
      this.#posters.add(epoch);
      void this.#storeThumbnail(thumbnailObjectKey(this.#streamId, posterFileName(epoch)), jpeg, IMMUTABLE_JPEG);
    }
    this.#nextThumbnail = jpeg;
    if (!this.#thumbnailBusy) void this.#drainThumbnails();
  }

  async #drainThumbnails(): Promise<void> {
    this.#thumbnailBusy = true;
    try {
      while (this.#nextThumbnail && !this.#cancelled) {
        const jpeg = this.#nextThumbnail;
        this.#nextThumbnail = undefined;
        await this.#storeThumbnail(thumbnailObjectKey(this.#streamId, 'latest.jpg'), jpeg, LATEST_JPEG);
      }
    } finally {
      this.#thumbnailBusy = false;
    }
  }

  async #storeThumbnail(key: string, jpeg: Uint8Array, cacheControl: string): Promise<void> {
    try {
      await this.#store.put(key, jpeg, { contentType: 'image/jpeg', cacheControl });
    } catch (err) {
      this.#log.warn({ key, err: (err as Error).message }, 'thumbnail not stored; the next one replaces it');
    }
  }

  /**
   * An LL-HLS part of the current epoch: held in memory (the origin's media route serves it) and
   * announced within a few ms, batched across renditions. Parts of an older epoch are dropped.
   */
  part(epoch: number, rendition: string, part: PackagedPart): void {
    const grant = this.#grant;
    if (this.#cancelled || !this.#recentParts || !grant || epoch !== grant.epoch || !this.#edge.announceParts) return;
    const file = partFileName(part.msn, part.part, epoch);
    this.#recentParts.put(mediaObjectKey(this.#streamId, rendition, file), part.bytes);
    this.#pendingParts.push({ rendition, msn: part.msn, part: part.part, epoch, duration: part.duration, independent: part.independent, last: part.last, file });
    if (this.#pendingParts.length > MAX_PENDING_PARTS) this.#pendingParts.splice(0, this.#pendingParts.length - MAX_PENDING_PARTS);
    if (!this.#partsScheduled) {
      this.#partsScheduled = true;
      this.#partsSince = Date.now();
      setTimeout(() => void this.#announceParts(), PART_BATCH_MS);
    }
  }

  async #announceParts(): Promise<void> {
    const grant = this.#grant;
    const batch = this.#pendingParts.splice(0);
    const cutAt = this.#partsSince;
    try {
      if (!grant || this.#cancelled || batch.length === 0) return;
      await this.#edge.announceParts!(this.#streamId, { epoch: grant.epoch, parts: batch.filter((p) => p.epoch === grant.epoch) });
      this.#metrics.partAnnounced?.(Date.now() - cutAt);
    } catch (err) {
      // The segment announce (retried) carries the media; a lost part only leaves its segment without parts.
      this.#log.debug({ err: (err as Error).message, parts: batch.length }, 'part announce failed; parts dropped');
    } finally {
      // Parts that came during the call go out at once, in one more call.
      this.#partsScheduled = this.#pendingParts.length > 0;
      if (this.#partsScheduled) {
        this.#partsSince = Date.now();
        setTimeout(() => void this.#announceParts(), 0);
      }
    }
  }

  /** Resolves once everything queued so far is announced (or the outbox was cancelled). */
  whenIdle(): Promise<void> {
    if (this.idle || this.#cancelled) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops everything still queued and stops (the stream is no longer this node's). */
  cancel(reason: string): void {
    if (this.#cancelled) return;
    this.#cancelled = reason;
    this.#stop.abort();
    let dropped = 0;
    const orphans: string[] = [];
    for (const [rendition, q] of this.#queues) {
      for (const e of q) {
        e.abort.abort();
        if (e.kind === 'segment') dropped++;
        if (e.state === 'stored') orphans.push(this.#keyOf(rendition, e));
      }
      q.length = 0;
    }
    void this.#deleteOrphans(orphans);
    this.#queuedBytes = 0;
    this.#metrics.uploadBacklog(this.#streamId, undefined);
    if (dropped > 0) this.#log.warn({ reason, dropped }, 'outbox cancelled; queued segments dropped');
    this.#wakeIdle();
  }

  #keyOf(rendition: string, e: Entry): string {
    return mediaObjectKey(this.#streamId, rendition, e.kind === 'init' ? e.info.initFile : segmentFileName(e.segment.msn, e.epoch));
  }

  /**
   * Objects stored but never announced when the outbox is cancelled (the stream ended, or this node
   * was fenced): no playlist will ever list them, so they would stay in storage for good.
   */
  async #deleteOrphans(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.#store.deleteKeys(keys);
      this.#log.info({ objects: keys.length }, 'deleted stored objects the edge will never list');
    } catch (err) {
      this.#log.warn({ objects: keys.length, err: (err as Error).message }, 'could not delete unlisted objects');
    }
  }

  #add(rendition: string, entry: Entry, bytes: Uint8Array, file: string): void {
    let queue = this.#queues.get(rendition);
    if (!queue) this.#queues.set(rendition, (queue = []));
    queue.push(entry);
    this.#queuedBytes += entry.size;
    this.#metrics.uploadBacklog(this.#streamId, this.#queuedBytes);
    void this.#upload(entry, mediaObjectKey(this.#streamId, rendition, file), bytes, file);
  }

  async #upload(entry: Entry, key: string, bytes: Uint8Array, file: string): Promise<void> {
    const started = performance.now();
    const signal = AbortSignal.any([entry.abort.signal, this.#stop.signal]);
    const result = await uploadUntilStored(this.#store, key, bytes, { contentType: contentTypeFor(file), cacheControl: cacheControlFor(file) }, {
      signal,
      retryBaseMs: this.#settings.retryBaseMs,
      retryMaxMs: this.#settings.retryMaxMs,
      onRetry: (attempt, delayMs, error) => {
        this.#metrics.segmentStoreFailed?.(isSegmentStoreError(error) ? error.code : 'store_unavailable');
        if (attempt === 1 || attempt % 10 === 0) this.#log.warn({ key, attempt, delayMs, queuedBytes: this.#queuedBytes, err: (error as Error).message }, 'storage unreachable; the segment waits in the queue');
      },
    });
    // Stored after the outbox was cancelled: nothing will list it.
    if (this.#cancelled && result.kind === 'stored') return void this.#deleteOrphans([key]);
    if (entry.state !== 'uploading') return; // given up meanwhile (queue cap) or cancelled
    this.#release(entry);
    if (result.kind === 'stored') {
      entry.state = 'stored';
      if (result.attempts > 1) this.#log.info({ key, attempts: result.attempts }, 'stored after the storage outage');
      if (entry.kind === 'segment') this.#metrics.segmentStored(entry.rendition, entry.size, performance.now() - started);
    } else if (result.kind === 'rejected') {
      entry.state = 'dropped';
      this.#metrics.segmentStoreFailed?.(isSegmentStoreError(result.error) ? result.error.code : 'store_rejected');
      this.#log.error({ key, err: (result.error as Error).message }, 'the store refused the object; it is listed as a gap');
      if (entry.kind === 'segment') this.#metrics.segmentsDropped(1, 'store_rejected');
    } else return;
    void this.#pump();
  }

  /** Over the cap: gives up the oldest segments still waiting for storage (never inits). */
  #evictOverCap(): void {
    if (this.#queuedBytes <= this.#settings.maxQueuedBytes) return;
    const waiting = [...this.#queues.values()]
      .flat()
      .filter((e): e is Extract<Entry, { kind: 'segment' }> => e.kind === 'segment' && e.state === 'uploading')
      .sort((a, b) => a.segment.msn - b.segment.msn);
    let dropped = 0;
    for (const e of waiting) {
      if (this.#queuedBytes <= this.#settings.maxQueuedBytes) break;
      e.abort.abort();
      this.#release(e);
      e.state = 'dropped';
      dropped++;
    }
    if (dropped > 0) {
      this.#metrics.segmentsDropped(dropped, 'queue_full');
      this.#log.error({ dropped, maxQueuedBytes: this.#settings.maxQueuedBytes }, 'upload queue full: oldest segments given up and listed as gaps');
      void this.#pump();
    }
  }

  #release(entry: Entry): void {
    this.#queuedBytes -= entry.size;
    this.#metrics.uploadBacklog(this.#streamId, this.#queuedBytes);
  }

  /** Announces whatever is ready, in order, until nothing is; one pump at a time. */
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#dirty = true;
      return;
    }
    this.#pumping = true;
    try {
      while (!this.#cancelled) {
        this.#dirty = false;
        const step = await this.#announceReady();
        if (step === 'progress') continue;
        if (step === 'failed') {
          const delayMs = backoffDelayMs(this.#failures, Math.random(), this.#settings.retryBaseMs, this.#settings.retryMaxMs);
          if (await sleepUnlessAborted(delayMs, this.#stop.signal)) break;
          continue;
        }
        if (!this.#dirty) break;
      }
    } finally {
      this.#pumping = false;
    }
    if (this.idle) this.#wakeIdle();
  }

  /** One announce call for the ready head of the queues: an init, or a batch of segments. */
  async #announceReady(): Promise<'progress' | 'failed' | 'idle'> {
    const grant = this.#grant;
    if (!grant) return 'idle';
    const batch: { entry: Extract<Entry, { kind: 'segment' }>; queue: Entry[] }[] = [];
    for (const queue of this.#queues.values()) {
      const head = queue[0];
      if (head?.kind === 'init' && head.state !== 'uploading') {
        if (head.state === 'dropped') {
          queue.shift();
          return 'progress';
        }
        return this.#send(grant, () => this.#edge.announceRendition(this.#streamId, { epoch: grant.epoch, rendition: head.info }), () => void queue.shift());
      }
      for (const entry of queue) {
        if (entry.kind !== 'segment' || entry.state === 'uploading' || batch.length >= MAX_SEGMENTS_PER_ANNOUNCE) break;
        batch.push({ entry, queue });
      }
    }
    if (batch.length === 0) return 'idle';
    const segments: AnnouncedSegment[] = batch.map(({ entry: e }) => ({
      rendition: e.rendition,
      msn: e.segment.msn,
      epoch: e.epoch,
      duration: e.segment.duration,
      programDateTime: e.segment.programDateTime,
      timelineOrigin: e.segment.timelineOrigin,
      file: segmentFileName(e.segment.msn, e.epoch),
      bytes: e.state === 'stored' ? e.size : 0,
      gap: e.state === 'dropped',
    }));
    return this.#send(
      grant,
      () => this.#edge.announceSegments(this.#streamId, { epoch: grant.epoch, segments }),
      () => {
        for (const { entry, queue } of batch) {
          queue.splice(queue.indexOf(entry), 1);
          this.#metrics.segmentAnnounced(Date.now() - (entry.segment.programDateTime + entry.segment.duration * 1000));
        }
      },
    );
  }

  async #send(grant: PublishGrant, call: () => Promise<void>, done: () => void): Promise<'progress' | 'failed' | 'idle'> {
    try {
      await call();
    } catch (err) {
      if (this.#cancelled) return 'idle';
      // A restart or reconnect replaced the grant while this call was out: send it again under the new one.
      if (err instanceof EdgeliveError && err.code === 'stale_epoch' && this.#grant && this.#grant.epoch > grant.epoch) return 'progress';
      if (isEdgeRefusal(err)) {
        this.#onRefused({ code: err.code, message: err.message, epoch: grant.epoch });
        this.cancel(`edge refused: ${err.code}`);
        return 'idle';
      }
      this.#failures++;
      if (this.#failures === 1 || this.#failures % 20 === 0) this.#log.warn({ failures: this.#failures, err: (err as Error).message }, 'edge unreachable; media stays queued and is announced when it answers');
      return 'failed';
    }
    if (this.#failures > 0) this.#log.info({ failedAttempts: this.#failures }, 'edge reachable again; announcing what was held');
    this.#failures = 0;
    done();
    return 'progress';
  }

  #wakeIdle(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
