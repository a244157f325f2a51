/** Encoder progress as ffmpeg's `-progress` reports it. */
export interface TranscodeProgress {
  frame: number;
  fps: number;
  /** Output bitrate over all outputs, kbit/s (0 while unknown). */
  bitrateKbps: number;
  /** Processing speed relative to real time. */
  speed: number;
  droppedFrames: number;
  duplicatedFrames: number;
  /** Media time encoded so far, seconds. */
  outTimeSeconds: number;
}

/**
 * Collects `key=value` lines of ffmpeg's `-progress` output; each block ends with
 * `progress=continue|end` and yields one report. Pure and incremental.
 */
export class ProgressParser {
  #fields = new Map<string, string>();

  /** Feeds one stderr line; returns a report when the line closes a block. */
  line(text: string): TranscodeProgress | null {
    const eq = text.indexOf('=');
    if (eq <= 0) return null;
    const key = text.slice(0, eq).trim();
    const value = text.slice(eq + 1).trim();
    if (key !== 'progress') {
      this.#fields.set(key, value);
      return null;
    }
    const f = this.#fields;
    this.#fields = new Map();
    const num = (k: string) => {
      const n = Number.parseFloat(f.get(k) ?? '');
      return Number.isFinite(n) ? n : 0;
    };
    return {
      frame: num('frame'),
      fps: num('fps'),
      bitrateKbps: num('bitrate'), // "1234.5kbits/s" parses as 1234.5; "N/A" as 0
      speed: num('speed'), // "1.02x"
      droppedFrames: num('drop_frames'),
      duplicatedFrames: num('dup_frames'),
      outTimeSeconds: num('out_time_us') / 1e6 || num('out_time_ms') / 1e6,
    };
  }
}
