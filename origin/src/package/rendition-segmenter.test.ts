import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codecsAttribute, parseInitSegment } from '../../../shared/src/mp4/fmp4-init-info.ts';
import { parseFragment } from '../../../shared/src/mp4/fmp4-fragment-info.ts';
import { Fmp4StreamSplitter, type Fmp4Chunk } from './fmp4-stream-splitter.ts';
import { RenditionSegmenter } from './rendition-segmenter.ts';

// 6 s of 160x90 at 15 fps, a keyframe every second, AAC 48 kHz, written by ffmpeg's mp4 muxer with
// frag_keyframe+empty_moov+default_base_moof: exactly what the transcoder emits per rendition.
const fixture = new Uint8Array(readFileSync(new URL('../../../test/fixtures/fragmented-160x90-gop1s.mp4', import.meta.url)));

function split(bytes: Uint8Array, chunkSize: number): Fmp4Chunk[] {
  const splitter = new Fmp4StreamSplitter();
  const out: Fmp4Chunk[] = [];
  for (let o = 0; o < bytes.length; o += chunkSize) out.push(...splitter.push(bytes.subarray(o, o + chunkSize)));
  expect(splitter.bufferedBytes).toBe(0);
  return out;
}

describe('Fmp4StreamSplitter', () => {
  it('cuts one init and one fragment per GOP, whatever the chunking', () => {
    for (const size of [1, 7, 4096, fixture.length]) {
      const chunks = split(fixture, size);
      expect(chunks.map((c) => c.kind)).toEqual(['init', 'fragment', 'fragment', 'fragment', 'fragment', 'fragment', 'fragment']);
      expect(chunks.reduce((n, c) => n + c.bytes.length, 0)).toBeLessThanOrEqual(fixture.length);
    }
  });

  it('refuses a box header whose size is smaller than the header', () => {
    const bad = new Uint8Array([0, 0, 0, 4, 0x6d, 0x6f, 0x6f, 0x76, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => new Fmp4StreamSplitter().push(bad)).toThrow(/malformed mp4 box 'moov'/);
  });
});

describe('parseInitSegment / parseFragment', () => {
  const [init, ...fragments] = split(fixture, 65536);

  it('reads codecs, size and timescales from the init segment', () => {
    const info = parseInitSegment(init!.bytes);
    expect(info.tracks.map((t) => [t.kind, t.codec, t.width, t.height])).toEqual([
      ['video', 'avc1.42c00c', 160, 90],
      ['audio', 'mp4a.40.2', 0, 0],
    ]);
    expect(codecsAttribute(info)).toBe('avc1.42c00c,mp4a.40.2');
  });

  it('reads decode time, duration and sync flag of every fragment', () => {
    const info = parseInitSegment(init!.bytes);
    const video = info.tracks[0]!;
    const timings = fragments.map((f) => parseFragment(f.bytes, info)[0]!);
    const ms = (ticks: number) => Math.round((ticks / video.timescale) * 1000);
    // ffmpeg shifts video by the AAC encoder delay (1024 samples at 48 kHz = 21 ms) in the first GOP.
    expect(timings.map((t) => ms(t.baseDecodeTime))).toEqual([0, 1021, 2021, 3021, 4021, 5021]);
    expect(timings.map((t) => ms(t.duration))).toEqual([1021, 1000, 1000, 1000, 1000, 1000]);
    expect(timings.map((t) => t.sampleCount)).toEqual([15, 15, 15, 15, 15, 15]);
    expect(timings.every((t) => t.startsWithSync)).toBe(true);
  });
});

describe('RenditionSegmenter', () => {
  it('groups 1 s GOPs into 2 s segments numbered from firstMsn, with PDT from the anchor', () => {
    const [init, ...fragments] = split(fixture, 65536);
    const seg = new RenditionSegmenter({ targetSeconds: 2, firstMsn: 10, anchorWallMs: 1_700_000_000_000 });
    seg.init(init!.bytes);
    const out = fragments.map((f) => seg.fragment(f.bytes)).filter((s) => s !== null);
    expect(out.map((s) => [s.msn, s.duration, Math.round(s.startSeconds * 1000) / 1000, s.programDateTime])).toEqual([
      [10, 2.021354, 0, 1_700_000_000_000],
      [11, 2, 2.021, 1_700_000_002_021],
      [12, 2, 4.021, 1_700_000_004_021],
    ]);
    expect(out.reduce((n, s) => n + s.bytes.length, 0)).toBe(fragments.reduce((n, f) => n + f.bytes.length, 0));
    expect(seg.flush()).toBeNull();
    expect(seg.nextMsn).toBe(13);
  });

  it('flushes a short last segment at end of stream', () => {
    const [init, ...fragments] = split(fixture, 65536);
    const seg = new RenditionSegmenter({ targetSeconds: 4, firstMsn: 0, anchorWallMs: 0 });
    seg.init(init!.bytes);
    const out = fragments.map((f) => seg.fragment(f.bytes)).filter((s) => s !== null);
    expect(out.map((s) => s.duration)).toEqual([4.021354]);
    expect(seg.flush()?.duration).toBe(2);
  });

  it('refuses a fragment before the init segment', () => {
    const [, first] = split(fixture, 65536);
    const seg = new RenditionSegmenter({ targetSeconds: 2, firstMsn: 0, anchorWallMs: 0 });
    expect(() => seg.fragment(first!.bytes)).toThrow(/before init/);
  });
});

describe('RenditionSegmenter parts (LL-HLS)', () => {
  const [init, ...fragments] = split(fixture, 65536);

  it('gives every fragment of a segment as a numbered part, independent at keyframes, the last one closing it', () => {
    const segmenter = new RenditionSegmenter({ targetSeconds: 2, firstMsn: 10, anchorWallMs: 1_000 });
    segmenter.init(init!.bytes);
    const out = fragments.map((f) => segmenter.cut(f.bytes));
    // The fixture's first fragment runs 1.021354 s (its first video sample starts late); the others 1 s.
    expect(out.map((o) => o.part && [o.part.msn, o.part.part, o.part.duration, o.part.independent, o.part.last])).toEqual([
      [10, 0, 1.021354, true, false],
      [10, 1, 1, true, true],
      [11, 0, 1, true, false],
      [11, 1, 1, true, true],
      [12, 0, 1, true, false],
      [12, 1, 1, true, true],
    ]);
    expect(out.map((o) => o.segment?.msn ?? null)).toEqual([null, 10, null, 11, null, 12]);
    // A segment's bytes are its parts' bytes, in order.
    expect(out[1]!.segment!.bytes).toEqual(new Uint8Array([...out[0]!.part!.bytes, ...out[1]!.part!.bytes]));
  });
});

describe('RenditionSegmenter with parts shorter than a GOP', () => {
  // 6 s at 25 fps, a keyframe every 2 s (50 frames), fragments cut at 0.283 s as with a 0.333 s part
  // target: 8-frame parts, and a 2-frame one before each keyframe. Made by the real ffmpeg.
  const mp4 = new Uint8Array(
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '283000', 'pipe:1'], { maxBuffer: 64 << 20 }),
  );
  const [init, ...fragments] = split(mp4, 65536);

  it('closes each segment at the next keyframe: no frame is lost, every segment starts with one', () => {
    const segmenter = new RenditionSegmenter({ targetSeconds: 2, firstMsn: 0, anchorWallMs: 0 });
    const info = segmenter.init(init!.bytes);
    const out = [...fragments.map((f) => segmenter.cut(f.bytes)), { part: null, segment: segmenter.flush() }];
    const segments = out.flatMap((o) => (o.segment ? [o.segment] : []));
    const frames = (bytes: Uint8Array) => parseFragment(bytes, info)[0]!.sampleCount;
    const allFrames = fragments.reduce((n, f) => n + frames(f.bytes), 0);
    expect(allFrames).toBe(150);
    // Every frame is in a segment (a segment is its parts' bytes: sum the fragments of each).
    const parts = out.flatMap((o) => (o.part ? [o.part] : []));
    expect(parts.reduce((n, p) => n + frames(p.bytes), 0)).toBe(150);
    expect(segments.map((s) => s.msn)).toEqual([0, 1, 2]);
    expect(segments.map((s) => s.duration)).toEqual([2, 2, 2]);
    // Part numbers restart at each keyframe, which is part 0 of its segment (and says the previous one closed).
    expect(parts.filter((p) => p.independent).map((p) => [p.msn, p.part])).toEqual([[0, 0], [1, 0], [2, 0]]);
    expect(parts.filter((p) => p.msn === 0).map((p) => p.part)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // The segment closes when the next keyframe's part arrives.
    const closing = out.findIndex((o) => o.segment?.msn === 0);
    expect(out[closing]!.part).toMatchObject({ msn: 1, part: 0, independent: true });
  });
});
