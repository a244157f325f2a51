import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FragmentTimeline, initsCompatible } from './fmp4-epoch-join.ts';
import { parseFragment } from './fmp4-fragment-info.ts';
import { parseInitSegment } from './fmp4-init-info.ts';
import { readBoxAt } from './mp4-box.ts';

/** A real fragmented MP4 (160x90 H.264 + AAC, a fragment a second), cut into its init and its fragments. */
function fixture(): { init: Uint8Array; fragments: Uint8Array[] } {
  const buf = new Uint8Array(readFileSync(new URL('../../../test/fixtures/fragmented-160x90-gop1s.mp4', import.meta.url)));
  let offset = 0;
  let initEnd = 0;
  const fragments: Uint8Array[] = [];
  let fragStart = -1;
  while (offset < buf.length) {
    const box = readBoxAt(buf, offset)!;
    if (box.type === 'moov') initEnd = box.end;
    if (box.type === 'moof') fragStart = box.start;
    if (box.type === 'mdat' && fragStart >= 0) {
      fragments.push(buf.slice(fragStart, box.end));
      fragStart = -1;
    }
    offset = box.end;
  }
  return { init: buf.slice(0, initEnd), fragments };
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe('FragmentTimeline', () => {
  it('places a second epoch (decode times restarting) right after the first, every track shifted by the same seconds', () => {
    const { init, fragments } = fixture();
    const info = parseInitSegment(init);
    const timeline = new FragmentTimeline(init);
    const first = fragments.map((f) => timeline.place(f.slice()));
    timeline.startEpoch();
    const second = fragments.map((f) => timeline.place(f.slice()));
    const times = [...first, ...second].map((f) => parseFragment(f, info));
    for (const track of info.tracks) {
      const runs = times.map((frag) => frag.find((t) => t.trackId === track.trackId)!);
      // Contiguous and increasing across the epoch boundary, as within an epoch.
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.baseDecodeTime).toBeGreaterThanOrEqual(runs[i - 1]!.baseDecodeTime + runs[i - 1]!.duration - 1);
    }
    // The first epoch is untouched.
    expect(first).toEqual(fragments);
    // The shift is one number of seconds for all tracks (sync within the epoch is kept).
    const shifts = info.tracks.map((t) => {
      const before = parseFragment(fragments[0]!, info).find((x) => x.trackId === t.trackId)!.baseDecodeTime;
      const after = times[fragments.length]!.find((x) => x.trackId === t.trackId)!.baseDecodeTime;
      return (after - before) / t.timescale;
    });
    for (const s of shifts) expect(Math.abs(s - shifts[0]!)).toBeLessThan(0.001);
  });

  it('makes an MP4 ffprobe reads as both epochs long', () => {
    const { init, fragments } = fixture();
    const timeline = new FragmentTimeline(init);
    const parts = [init, ...fragments.map((f) => timeline.place(f.slice()))];
    timeline.startEpoch();
    parts.push(...fragments.map((f) => timeline.place(f.slice())));
    const dir = mkdtempSync(join(tmpdir(), 'edgelive-join-'));
    try {
      const one = join(dir, 'one.mp4');
      const two = join(dir, 'two.mp4');
      writeFileSync(one, concat([init, ...fragments]));
      writeFileSync(two, concat(parts));
      const duration = (file: string) => Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString().trim());
      const frames = (file: string) => Number(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]).toString().trim());
      expect(duration(two)).toBeCloseTo(2 * duration(one), 1);
      expect(frames(two)).toBe(2 * frames(one));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('initsCompatible', () => {
  it('accepts the same init and refuses one with another codec configuration', () => {
    const { init } = fixture();
    expect(initsCompatible(init, init.slice())).toBe(true);
    // Flip one byte inside the avcC record (the SPS): another encoder configuration.
    const other = init.slice();
    const at = Buffer.from(other).indexOf('avcC') + 8;
    other[at] = other[at]! ^ 0xff;
    expect(initsCompatible(init, other)).toBe(false);
  });
});
