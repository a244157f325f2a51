import type { Logger } from 'pino';
import type { PublishGrant } from '../../../shared/src/schemas.ts';
import type { InitInfo } from '../../../shared/src/mp4/fmp4-init-info.ts';
import type { PackagedPart, PackagedSegment } from '../package/rendition-segmenter.ts';
import { FfmpegJob } from './ffmpeg-job.ts';
import type { TranscodePlan } from './ladder-plan.ts';
import type { TranscodeProgress } from './progress-parser.ts';
import { StallWatch } from './stall-watch.ts';

/** How long a killed ffmpeg may take to close its outputs (its last segment) before we go on without. */
export const JOB_EXIT_WAIT_MS = 5_000;

/** Settings of a stream's transcoder, from the node's configuration. */
export interface TranscoderSettings {
  ffmpegPath: string;
  x264Preset: string;
  /** Seconds between thumbnails (0 or unset: none). */
  thumbnailSeconds?: number;
  socketDir: string;
  /** No new frame from a fed ffmpeg for this long counts as a stall. */
  stallMs: number;
}

/** Where a transcoder's media goes, each piece with the epoch its ffmpeg was started under. */
export interface MediaSink {
  init(epoch: number, rendition: string, bytes: Uint8Array, info: InitInfo): void;
  segment(epoch: number, rendition: string, segment: PackagedSegment): void;
  /** A JPEG of the picture (every few seconds). */
  thumbnail?(epoch: number, jpeg: Uint8Array): void;
  /** LL-HLS: a part of the segment being made (before that segment). */
  part?(epoch: number, rendition: string, part: PackagedPart): void;
}

/** Why a transcoder failed: ffmpeg exited or was killed by someone else, stalled, or fell behind its input. */
export type TranscoderFailure =
  | { code: 'ffmpeg_exited'; message: string }
  | { code: 'ffmpeg_stalled'; message: string; stalledMs: number }
  | { code: 'input_backlog'; message: string; queuedBytes: number };

/** What a transcoder reports to its owner besides media. */
export interface TranscoderEvents {
  /** The running ffmpeg failed on its own (not stopped by us). */
  onFailed(failure: TranscoderFailure): void;
}

/**
 * One stream's ffmpeg, one epoch at a time: started for a grant, fed FLV, watched for stalls, and
 * stopped with a bounded wait for its last segments. Restart decisions stay with its owner.
 */
export class Transcoder {
  readonly #settings: TranscoderSettings;
  readonly #events: TranscoderEvents;
  readonly #stall: StallWatch;
  #job: FfmpegJob | undefined;
  #progress: TranscodeProgress | undefined;

  constructor(settings: TranscoderSettings, events: TranscoderEvents) {
    this.#settings = settings;
    this.#events = events;
    this.#stall = new StallWatch(settings.stallMs);
  }

  /** True once an ffmpeg was started (it may have exited since). */
  get started(): boolean {
    return this.#job !== undefined;
  }

  /** ffmpeg's latest progress report, if any. */
  get progress(): TranscodeProgress | undefined {
    return this.#progress;
  }

  /** Starts a new ffmpeg for `grant`, its media going down to `sink`, and feeds it `firstInput()` (read once ffmpeg is up). */
  async start(grant: PublishGrant, plan: TranscodePlan, sink: MediaSink, logger: Logger, firstInput: () => Buffer[]): Promise<void> {
    this.#stall.started(Date.now());
    const job: FfmpegJob = new FfmpegJob({
      jobId: `${grant.streamId}-${grant.epoch}`,
      ffmpegPath: this.#settings.ffmpegPath,
      plan,
      segmentSeconds: grant.segmentSeconds,
      partSeconds: grant.partSeconds,
      firstMsn: grant.firstMsn,
      preset: this.#settings.x264Preset,
      thumbnailSeconds: this.#settings.thumbnailSeconds ?? 0,
      socketDir: this.#settings.socketDir,
      logger,
      events: {
        onInit: (rendition, bytes, info) => sink.init(grant.epoch, rendition, bytes, info),
        onSegment: (rendition, segment) => sink.segment(grant.epoch, rendition, segment),
        onThumbnail: (jpeg) => sink.thumbnail?.(grant.epoch, jpeg),
        onPart: (rendition, part) => sink.part?.(grant.epoch, rendition, part),
        onProgress: (p) => {
          this.#progress = p;
          this.#stall.progressed(p.frame, Date.now());
        },
        onExit: ({ error }) => {
          if (error && this.#job === job) this.#events.onFailed({ code: 'ffmpeg_exited', message: error.message });
        },
      },
    });
    this.#job = job;
    await job.start();
    for (const tag of firstInput()) job.input.write(tag);
  }

  /** Input arrived from the broadcaster (fed or not, it counts for the stall check). */
  fed(now: number): void {
    this.#stall.fed(now);
  }

  /** Writes one tag to the running ffmpeg; returns the bytes of input still queued for it. */
  write(tag: Buffer): number {
    const input = this.#job!.input;
    input.write(tag);
    return input.writableLength;
  }

  /** How long ffmpeg has made no new frame while fed, or undefined when it is not stalled. */
  stalledFor(now: number): number | undefined {
    return this.#stall.stalledFor(now);
  }

  /** Ends ffmpeg's input and waits (at most `timeoutMs`) for it to flush its last segments. */
  async drain(timeoutMs: number): Promise<void> {
    await this.#job?.drain(timeoutMs);
  }

  /** Kills ffmpeg and waits (at most JOB_EXIT_WAIT_MS) for its outputs, i.e. its last segments. */
  async stop(reason: string, logger: Logger): Promise<void> {
    const job = this.#job;
    if (!job) return;
    job.close(reason);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([job.done.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), JOB_EXIT_WAIT_MS)))]);
    clearTimeout(timer);
    if (timedOut) logger.warn({ waitedMs: JOB_EXIT_WAIT_MS }, 'ffmpeg outputs still open after the kill; going on without its last segment');
  }

  /** Kills ffmpeg without waiting (the stream is no longer ours). */
  kill(reason: string): void {
    this.#job?.close(reason);
  }
}
