/** The StreamDO's recordings and media-retention side: settings, hooks on the segment index, the alarm duty and the RPC answers. */
import { mediaObjectKey } from '../../../shared/src/internal-api.ts';
import type { PlaybackPolicy } from '../../../shared/src/schemas.ts';
import type { Env } from '../env.ts';
import type { Settings } from '../settings.ts';
import { fail, ok, type DoResult } from '../stream-do/do-result.ts';
import type { RenditionRow, StreamRow } from '../stream-do/stream-schema.ts';
import type { SegmentIndexHooks, StreamStore } from '../stream-do/stream-store.ts';
import type { UpkeepDuty } from '../stream-do/stream-upkeep.ts';
import { playbackPolicyOf, renditionView, type StreamView } from '../stream-do/stream-view.ts';
import type { StreamWriter } from '../stream-do/stream-writer.ts';
import { mediaDeleter } from './media-deleter.ts';
import { parseMediaSettings, type MediaSettings } from './media-settings.ts';
import type { RecordingRow } from './recordings-schema.ts';
import { RecordingsStore } from './recordings-store.ts';
import { recordingView, StreamRecordings, type RecordingView } from './stream-recordings.ts';
import { vodSegment, type VodDownload, type VodMasterData, type VodMediaData } from './vod-data.ts';

/** Recording settings of a new stream. */
export interface RecordingOptions {
  record: boolean;
  /** Default: the edge's RECORDING_RETENTION_SECONDS (7 days). */
  retentionSeconds?: number;
}

/** What `GET /v1/streams/:id` adds: recording settings and the bytes the stream holds in storage. */
export interface MediaStreamFields {
  record: boolean;
  recordingRetentionSeconds: number;
  storage: StreamView['storage'] & { bytes: number; purgedObjects: number };
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A new recording id: `r` and 15 random base-36 characters. */
export function newRecordingId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(15));
  return `r${[...bytes].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;
}

/** Recordings and retention of one StreamDO, wired to its segment index and alarm. */
export class RecordingsRpc {
  readonly #store: RecordingsStore;
  readonly #settings: MediaSettings;
  readonly #recordings: StreamRecordings;
  #index: StreamStore | undefined;

  constructor(sql: SqlStorage, env: Env, settings: Settings) {
    this.#store = new RecordingsStore(sql);
    this.#settings = parseMediaSettings(env);
    this.#recordings = new StreamRecordings({
      store: this.#store,
      liveIndexHas: (rendition, msn) => this.#index?.hasSegment(rendition, msn) ?? false,
      liveIndexUsesEpoch: (rendition, epoch) => this.#index?.usesEpoch(rendition, epoch) ?? false,
      liveIndexRows: () => this.#index?.segmentRows() ?? [],
      stream: () => this.#index?.stream() ?? null,
      endedRetentionSeconds: settings.endedRetentionSeconds,
      deleter: mediaDeleter(env.MEDIA, this.#settings.mediaDeleteUrl, settings.originSecret),
      purgeDelayMs: this.#settings.purgeDelayMs,
      newId: newRecordingId,
    });
  }

  /** The origin's signed media delete route, or null (R2 binding only). */
  get mediaDeleteUrl(): string | null {
    return this.#settings.mediaDeleteUrl;
  }

  migrate(): void {
    this.#store.migrate({ retentionSeconds: this.#settings.recordingRetentionSeconds });
  }

  /** Observers for the StreamStore's segment index. */
  indexHooks(stream: () => StreamRow | null): SegmentIndexHooks {
    return {
      segmentInserted: (s) => this.#recordings.segmentInserted(s),
      segmentsPruning: (rows) => {
        const row = stream();
        if (row) this.#recordings.segmentsPruned(rows, row.id, Date.now());
      },
    };
  }

  /** The alarm duty: finish the recording when the stream ends, expire and purge. */
  upkeepDuty(index: StreamStore, writer: StreamWriter): UpkeepDuty {
    this.#index = index;
    return {
      afterChange: (row, now) => this.#recordings.finishIfEnded(writer, row, now),
      runAlarm: (row, now) => this.#recordings.runAlarm(writer, row, now),
      nextAlarmAt: (now) => this.#recordings.nextAlarmAt(now),
      doneWith: () => this.#recordings.holdsNothing(),
    };
  }

  /** Sets a new stream's recording options (inside its create). */
  configure(o: RecordingOptions): void {
    this.#store.configure(o.record, o.retentionSeconds ?? this.#settings.recordingRetentionSeconds);
  }

  /** The stream view with recording settings and storage bytes. */
  describe(view: StreamView): StreamView & MediaStreamFields {
    const s = this.#store.settings();
    return { ...view, record: s.record === 1, recordingRetentionSeconds: s.retention_seconds, storage: { ...view.storage, bytes: s.stored_bytes, purgedObjects: s.purged_objects } };
  }

  list(): RecordingView[] {
    const policy = this.#policy();
    return this.#store.recordings().map((r) => this.#view(r, policy));
  }

  one(id: string): DoResult<RecordingView> {
    const rec = this.#store.recording(id);
    return rec ? ok(this.#view(rec)) : fail('not_found', `recording ${id} not found`);
  }

  delete(writer: StreamWriter, id: string): DoResult<RecordingView> {
    const rec = this.#recordings.deleteRecording(writer, id, Date.now());
    return rec ? ok(this.#view(rec)) : fail('not_found', `recording ${id} not found`);
  }

  vodMaster(id: string, renditions: RenditionRow[]): DoResult<VodMasterData> {
    const rec = this.#ready(id);
    if (!rec.ok) return rec;
    const held = new Set(this.#store.recordingRenditions(id).map((r) => r.rendition));
    return ok({ renditions: renditions.filter((r) => held.has(r.name)).map(renditionView), expiresAt: rec.value.expires_at ?? 0 });
  }

  vodMedia(id: string, rendition: string): DoResult<VodMediaData> {
    const rec = this.#ready(id);
    if (!rec.ok) return rec;
    const rows = this.#store.recordingSegments(id, rendition);
    if (rows.length === 0) return fail('not_found', `recording ${id} has no rendition ${rendition}`);
    return ok({ segments: rows.map(vodSegment), expiresAt: rec.value.expires_at ?? 0 });
  }

  /**
   * The MP4 download: the top rendition's first init and its stored segments. CMAF init + fragments
   * are a valid fragmented MP4 as they are; a recording that spans reconnects restarts its
   * timestamps at each new epoch, so it is cut at the first epoch's end (the VOD playlist has all of it).
   */
  download(id: string, streamId: string, renditions: RenditionRow[]): DoResult<VodDownload> {
    const rec = this.#ready(id);
    if (!rec.ok) return rec;
    const held = new Set(this.#store.recordingRenditions(id).map((r) => r.rendition));
    const top = renditions.find((r) => held.has(r.name));
    if (!top) return fail('not_found', `recording ${id} holds no rendition`);
    const media = this.#store.recordingSegments(id, top.name).filter((r) => r.gap === 0);
    const epochs: VodDownload['epochs'] = [];
    for (const r of media) {
      const initKey = mediaObjectKey(streamId, top.name, r.init_file);
      if (epochs.at(-1)?.initKey !== initKey) epochs.push({ initKey, keys: [] });
      epochs.at(-1)!.keys.push(mediaObjectKey(streamId, top.name, r.file));
    }
    if (epochs.length === 0) return fail('not_found', `recording ${id} holds no stored segment of ${top.name}`);
    return ok({ rendition: top.name, bytes: media.reduce((sum, r) => sum + r.bytes, 0), epochs });
  }

  #ready(id: string): DoResult<RecordingRow> {
    const rec = this.#store.recording(id);
    if (!rec || rec.status === 'deleted') return fail('not_found', `recording ${id} not found`);
    if (rec.status !== 'ready') return fail('conflict', `recording ${id} is still recording; it is playable once the stream ends`);
    return ok(rec);
  }

  /** The stream's playback policy, which its recordings follow. */
  #policy(): PlaybackPolicy {
    const row = this.#index?.stream();
    return row ? playbackPolicyOf(row) : 'public';
  }

  #view(rec: RecordingRow, policy: PlaybackPolicy = this.#policy()): RecordingView {
    return recordingView(rec, rec.status === 'deleted' ? [] : this.#store.recordingRenditions(rec.id).map((r) => r.rendition), policy);
  }
}
