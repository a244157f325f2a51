/**
 * Tells a stalled transcoder from an idle one: stalled means fed within the last `stallMs` but no
 * new frame for longer (e.g. a SIGSTOPped ffmpeg). Pure: the caller passes `now` (ms).
 */
export class StallWatch {
  readonly #stallMs: number;
  #lastFrame = -1;
  #lastFrameAt = 0;
  #lastTagAt = 0;

  constructor(stallMs: number) {
    this.#stallMs = stallMs;
  }

  /** A new transcoder started: its frame count starts again and it gets a full window. */
  started(now: number): void {
    this.#lastFrame = -1;
    this.#lastFrameAt = now;
  }

  /** Input arrived from the broadcaster. */
  fed(now: number): void {
    this.#lastTagAt = now;
  }

  /** The transcoder reported its frame count. */
  progressed(frame: number, now: number): void {
    if (frame > this.#lastFrame) {
      this.#lastFrame = frame;
      this.#lastFrameAt = now;
    }
  }

  /** How long the transcoder has made no new frame while fed, or undefined when it is not stalled. */
  stalledFor(now: number): number | undefined {
    const stalledMs = now - this.#lastFrameAt;
    return stalledMs > this.#stallMs && now - this.#lastTagAt < this.#stallMs ? stalledMs : undefined;
  }
}
