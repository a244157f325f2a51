import { describe, expect, it } from 'vitest';
import { ProgressParser, type TranscodeProgress } from './progress-parser.ts';

/** One block as ffmpeg 6/7 prints it with `-progress pipe:2`. */
const BLOCK = `frame=123
fps=29.97
stream_0_0_q=28.0
stream_1_0_q=29.0
bitrate=1234.5kbits/s
total_size=632320
out_time_us=4100000
out_time_ms=4100000
out_time=00:00:04.100000
dup_frames=2
drop_frames=5
speed=1.02x
progress=continue`;

function feed(parser: ProgressParser, text: string): (TranscodeProgress | null)[] {
  return text.split('\n').map((l) => parser.line(l));
}

describe('ProgressParser', () => {
  it('turns one -progress block into one exact report', () => {
    const results = feed(new ProgressParser(), BLOCK);

    expect(results.slice(0, -1)).toEqual(Array(12).fill(null));
    expect(results.at(-1)).toEqual({
      frame: 123,
      fps: 29.97,
      bitrateKbps: 1234.5,
      speed: 1.02,
      droppedFrames: 5,
      duplicatedFrames: 2,
      outTimeSeconds: 4.1,
    });
  });

  it('reads N/A as 0', () => {
    const parser = new ProgressParser();
    feed(parser, 'frame=0\nfps=0.00\nstream_0_0_q=0.0\nbitrate=N/A\ntotal_size=N/A\nout_time_us=N/A\nout_time_ms=N/A\nout_time=N/A\ndup_frames=0\ndrop_frames=0');

    expect(parser.line('speed=N/A')).toBeNull();
    expect(parser.line('progress=continue')).toEqual({
      frame: 0,
      fps: 0,
      bitrateKbps: 0,
      speed: 0,
      droppedFrames: 0,
      duplicatedFrames: 0,
      outTimeSeconds: 0,
    });
  });

  it('falls back to out_time_ms (which ffmpeg prints in microseconds too) when out_time_us is N/A', () => {
    const parser = new ProgressParser();
    parser.line('out_time_us=N/A');
    parser.line('out_time_ms=2500000');

    expect(parser.line('progress=continue')?.outTimeSeconds).toBe(2.5);
  });

  it('returns null for lines that do not close a block, and for junk lines', () => {
    const parser = new ProgressParser();
    expect(parser.line('frame=1')).toBeNull();
    expect(parser.line('')).toBeNull();
    expect(parser.line('[libx264 @ 0x5581] using cpu capabilities: MMX2 SSE2')).toBeNull();
    expect(parser.line('=oops')).toBeNull();
  });

  it('reports each of two consecutive blocks from its own fields only', () => {
    const parser = new ProgressParser();
    const first = feed(parser, BLOCK).at(-1);
    const second = feed(parser, 'frame=185\nfps=30.01\nbitrate=1300.0kbits/s\nout_time_us=6166667\nspeed=0.998x\nprogress=end');

    expect(first).toEqual({ frame: 123, fps: 29.97, bitrateKbps: 1234.5, speed: 1.02, droppedFrames: 5, duplicatedFrames: 2, outTimeSeconds: 4.1 });
    expect(second.slice(0, -1)).toEqual(Array(5).fill(null));
    expect(second.at(-1)).toEqual({
      frame: 185,
      fps: 30.01,
      bitrateKbps: 1300,
      speed: 0.998,
      droppedFrames: 0,
      duplicatedFrames: 0,
      outTimeSeconds: 6.166667,
    });
  });

  it('trims whitespace and carriage returns around keys and values', () => {
    const parser = new ProgressParser();
    parser.line(' frame = 7 \r');
    parser.line('speed=2.5x\r');

    expect(parser.line('progress=continue\r')).toEqual({
      frame: 7,
      fps: 0,
      bitrateKbps: 0,
      speed: 2.5,
      droppedFrames: 0,
      duplicatedFrames: 0,
      outTimeSeconds: 0,
    });
  });
});
