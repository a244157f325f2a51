import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { Logger } from 'pino';
import { Fmp4StreamSplitter } from '../package/fmp4-stream-splitter.ts';
import type { InitInfo } from '../../../shared/src/mp4/fmp4-init-info.ts';
import { RenditionSegmenter, type PackagedPart, type PackagedSegment } from '../package/rendition-segmenter.ts';
import { buildFfmpegArgs, ffmpegArgv, THUMBNAIL_OUTPUT } from './ffmpeg-args.ts';
import { JpegFrameSplitter } from './jpeg-frame-splitter.ts';
import type { TranscodePlan } from './ladder-plan.ts';
import { ProgressParser, type TranscodeProgress } from './progress-parser.ts';

/** Height of thumbnails in pixels (width follows the picture's aspect). */
export const THUMBNAIL_HEIGHT = 180;

/** Lifecycle of one ffmpeg process. */
export type FfmpegJobState = 'idle' | 'running' | 'draining' | 'closed';

/** What a job reports to its owner. */
export interface FfmpegJobEvents {
  onInit(rendition: string, bytes: Uint8Array, info: InitInfo): void;
  onSegment(rendition: string, segment: PackagedSegment): void;
  /** LL-HLS: one fragment of the open segment (only with `partSeconds`); comes before the segment it closes. */
  onPart?(rendition: string, part: PackagedPart): void;
  onProgress(progress: TranscodeProgress): void;
  /** A thumbnail JPEG (when `thumbnailSeconds` > 0). */
  onThumbnail?(jpeg: Uint8Array): void;
  /** Called once, when ffmpeg is gone; `error` is set when it failed rather than finished. */
  onExit(result: { error?: Error }): void;
}

/** Options of one job: what to make and where the pieces go. */
export interface FfmpegJobOptions {
  jobId: string;
  ffmpegPath: string;
  plan: TranscodePlan;
  segmentSeconds: number;
  /** LL-HLS part target (seconds): ffmpeg fragments this short and each fragment is reported as a part; null: off. */
  partSeconds?: number | null;
  firstMsn: number;
  preset: string;
  /** Seconds between thumbnails; 0 = no thumbnail output. */
  thumbnailSeconds?: number;
  /** Folder for the per-rendition unix sockets. */
  socketDir: string;
  logger: Logger;
  events: FfmpegJobEvents;
}

/**
 * ONE ffmpeg for a whole ladder. FLV goes in on stdin (write to `input`); each rendition comes back
 * as fragmented MP4 over its own unix socket, where the origin cuts it into CMAF init + segments
 * itself (ffmpeg's own playlists are never used).
 */
export class FfmpegJob {
  /** Write the broadcaster's FLV here. */
  readonly input = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
  #state: FfmpegJobState = 'idle';
  readonly #opts: FfmpegJobOptions;
  readonly #servers: net.Server[] = [];
  readonly #segmenters = new Map<string, RenditionSegmenter>();
  readonly #openOutputs = new Set<string>();
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #lastStderr: string[] = [];
  #gone!: () => void;
  /** Resolves once ffmpeg is gone and its last segments were handed to `onSegment` (after `onExit`). */
  readonly done: Promise<void>;

  constructor(opts: FfmpegJobOptions) {
    this.#opts = opts;
    this.done = new Promise((resolve) => (this.#gone = resolve));
  }

  get state(): FfmpegJobState {
    return this.#state;
  }

  /** The ffmpeg process id once started (for logs and operators). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Opens the sockets and launches ffmpeg. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`ffmpeg job ${this.#opts.jobId} already ${this.#state}`);
    this.#state = 'running';
    const { plan, socketDir, jobId, logger } = this.#opts;
    mkdirSync(socketDir, { recursive: true });
    const anchorWallMs = Date.now();
    const socketPath = (rendition: string) => join(socketDir, `${jobId}-${rendition}.sock`);
    for (const r of plan.renditions) {
      this.#segmenters.set(r.name, new RenditionSegmenter({ targetSeconds: this.#opts.segmentSeconds, firstMsn: this.#opts.firstMsn, anchorWallMs }));
      this.#servers.push(await this.#listen(r.name, socketPath(r.name)));
    }
    const thumbnailSeconds = this.#opts.thumbnailSeconds ?? 0;
    if (thumbnailSeconds > 0) this.#servers.push(await this.#listenThumbnails(socketPath(THUMBNAIL_OUTPUT)));
    const args = buildFfmpegArgs(plan, {
      segmentSeconds: this.#opts.segmentSeconds,
      preset: this.#opts.preset,
      outputUrl: (r) => `unix:${socketPath(r)}`,
      ...(thumbnailSeconds > 0 ? { thumbnail: { url: `unix:${socketPath(THUMBNAIL_OUTPUT)}`, everySeconds: thumbnailSeconds, height: THUMBNAIL_HEIGHT } } : {}),
      partSeconds: this.#opts.partSeconds ?? null,
    });
    const progress = new ProgressParser();
    // -progress on stderr gives machine-readable fps/speed/drops; -nostats drops the human line.
    const argv = ['-hide_banner', '-nostats', '-loglevel', 'warning', '-progress', 'pipe:2', ...ffmpegArgv(args, 'pipe:0')];
    const child = spawn(this.#opts.ffmpegPath, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#child = child;
    logger.info({ jobId, cmd: [this.#opts.ffmpegPath, ...argv].join(' ') }, 'ffmpeg started');
    // ffmpeg gone while we still write: the exit below reports why; EPIPE here says nothing more.
    child.stdin!.on('error', (err) => logger.debug({ jobId, err: err.message }, 'ffmpeg stdin closed'));
    this.input.pipe(child.stdin!);
    createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
      const report = progress.line(line);
      if (report) this.#opts.events.onProgress(report);
      else if (!line.includes('=')) {
        this.#lastStderr = [...this.#lastStderr.slice(-9), line];
        logger.debug({ jobId, ffmpeg: line }, 'ffmpeg');
      }
    });
    this.#exited = new Promise((resolve) => {
      let reported = false;
      const exit = (error: Error | undefined) => {
        if (reported) return;
        reported = true;
        this.#finish(error);
        resolve();
      };
      // 'close' comes after stderr is drained, so the last lines are in #lastStderr.
      child.once('close', (code, signal) => {
        const last = `last output: ${this.#lastStderr.join(' | ')}`;
        // Only our own close() is a kill on purpose; a signal from anyone else (OOM killer, an
        // operator, a test) is a failure the owner must supervise.
        if (this.#state === 'closed') exit(undefined);
        // Worded as fluent-ffmpeg worded them, so log searches and the event log read the same.
        else if (code !== 0) exit(new Error(`ffmpeg failed: ${signal ? `ffmpeg was killed with signal ${signal}` : `ffmpeg exited with code ${code}`}; ${last}`));
        // Exiting cleanly is only expected after drain() ended its input.
        else exit(this.#state === 'running' ? new Error(`ffmpeg exited while still fed; ${last}`) : undefined);
      });
      child.once('error', (err) => exit(this.#state === 'closed' ? undefined : new Error(`ffmpeg failed: ${err.message}`)));
    });
  }

  /**
   * Ends the input so ffmpeg flushes its last frames, waits up to `timeoutMs` for it to exit,
   * then closes the last open segment of each rendition.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'draining';
    this.input.end();
    const timedOut = await Promise.race([this.#exited!.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (timedOut) {
      this.#opts.logger.warn({ jobId: this.#opts.jobId, timeoutMs }, 'ffmpeg did not finish draining in time; killing it');
      this.close('drain timeout');
    }
    await this.done;
  }

  /** Stops ffmpeg at once (SIGKILL) and releases the sockets. */
  close(reason: string): void {
    if (this.#state === 'closed') return;
    this.#opts.logger.info({ jobId: this.#opts.jobId, reason }, 'ffmpeg job closing');
    const started = this.#state !== 'idle';
    this.#state = 'closed';
    this.input.destroy();
    this.#child?.kill('SIGKILL');
    this.#closeServers();
    if (!started) this.#gone();
  }

  #finish(error: Error | undefined): void {
    // Output sockets may still hold the muxer's last bytes: flush segmenters after they close.
    const flush = () => {
      for (const [name, segmenter] of this.#segmenters) {
        const last = segmenter.flush();
        if (last) this.#opts.events.onSegment(name, last);
      }
      this.#closeServers();
      const wasClosed = this.#state === 'closed';
      this.#state = 'closed';
      this.#opts.events.onExit(error && !wasClosed ? { error } : {});
      this.#gone();
    };
    if (this.#openOutputs.size === 0) flush();
    else this.#whenOutputsClosed = flush;
  }

  #whenOutputsClosed: (() => void) | undefined;

  #listen(rendition: string, path: string): Promise<net.Server> {
    rmSync(path, { force: true });
    const server = net.createServer((socket) => {
      this.#openOutputs.add(rendition);
      const splitter = new Fmp4StreamSplitter();
      const segmenter = this.#segmenters.get(rendition)!;
      socket.on('data', (data: Buffer) => {
        try {
          for (const chunk of splitter.push(data)) {
            if (chunk.kind === 'init') this.#opts.events.onInit(rendition, chunk.bytes, segmenter.init(chunk.bytes));
            else {
              const { part, segment } = segmenter.cut(chunk.bytes);
              if (part && this.#opts.partSeconds) this.#opts.events.onPart?.(rendition, part);
              if (segment) this.#opts.events.onSegment(rendition, segment);
            }
          }
        } catch (err) {
          this.#opts.logger.error({ jobId: this.#opts.jobId, rendition, err }, 'unreadable fragmented MP4 from ffmpeg');
          socket.destroy();
        }
      });
      socket.on('close', () => {
        this.#openOutputs.delete(rendition);
        if (this.#openOutputs.size === 0 && this.#whenOutputsClosed) {
          const done = this.#whenOutputsClosed;
          this.#whenOutputsClosed = undefined;
          done();
        }
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve(server));
    });
  }

  /** The thumbnail output: MJPEG frames cut into JPEG files; never holds up the media outputs' flush. */
  #listenThumbnails(path: string): Promise<net.Server> {
    rmSync(path, { force: true });
    const server = net.createServer((socket) => {
      const splitter = new JpegFrameSplitter();
      socket.on('data', (data: Buffer) => {
        for (const jpeg of splitter.push(data)) this.#opts.events.onThumbnail?.(jpeg);
      });
      socket.on('error', (err) => this.#opts.logger.debug({ jobId: this.#opts.jobId, err: err.message }, 'thumbnail output closed'));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve(server));
    });
  }

  #closeServers(): void {
    for (const s of this.#servers.splice(0)) s.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
