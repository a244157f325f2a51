/**
 * Joins the encoder runs (epochs) of one rendition into one fragmented MP4 timeline, for a
 * recording's MP4 download across reconnects. Each epoch is a new encoder whose decode times start
 * again near 0; played after the first epoch's init they would go backwards. `FragmentTimeline`
 * rewrites each fragment's `tfdt` in place so every epoch continues where the previous one ended
 * (the same shift in seconds for every track, which keeps each epoch's audio/video sync). Pure.
 */
import { parseFragment } from './fmp4-fragment-info.ts';
import { parseInitSegment, type InitInfo } from './fmp4-init-info.ts';
import { findAll, findBox, readBoxAt, viewOf } from './mp4-box.ts';

/** The `stsd` (codec configuration) bytes of each track, by track id (`parseInitSegment` lists tracks in `trak` order). */
function sampleDescriptions(init: Uint8Array, info: InitInfo): Map<number, string> {
  const moov = findBox(init, undefined, ['moov']);
  if (!moov) throw new Error('init segment has no moov box');
  const out = new Map<number, string>();
  findAll(init, moov, 'trak').forEach((trak, i) => {
    const stsd = findBox(init, trak, ['mdia', 'minf', 'stbl', 'stsd'])!;
    out.set(info.tracks[i]!.trackId, Array.from(init.subarray(stsd.start, stsd.end), (b) => b.toString(16).padStart(2, '0')).join(''));
  });
  return out;
}

/**
 * True when fragments made against init `b` play after init `a`: the same tracks with the same
 * timescales and byte-identical sample descriptions (codec, SPS/PPS, audio config).
 */
export function initsCompatible(a: Uint8Array, b: Uint8Array): boolean {
  const ia = parseInitSegment(a);
  const ib = parseInitSegment(b);
  if (ia.tracks.length !== ib.tracks.length) return false;
  for (const t of ia.tracks) {
    const u = ib.tracks.find((x) => x.trackId === t.trackId);
    if (!u || u.timescale !== t.timescale || u.kind !== t.kind) return false;
  }
  const sa = sampleDescriptions(a, ia);
  const sb = sampleDescriptions(b, ib);
  return [...sa].every(([id, desc]) => sb.get(id) === desc);
}

const MAX_U32 = 0xffffffff;

/** Rewrites fragments' decode times so epochs follow one another on one timeline. */
export class FragmentTimeline {
  readonly #init: InitInfo;
  /** Where each track's media ends so far (decode time after its last sample, in its timescale). */
  readonly #end = new Map<number, number>();
  /** The current epoch's shift in seconds, or null until its first fragment fixes it. */
  #shiftSeconds: number | null = 0;

  /** `init`: the init segment the output starts with (the first epoch's). */
  constructor(init: Uint8Array) {
    this.#init = parseInitSegment(init);
  }

  /** The next fragment starts a new epoch: it and the rest of the epoch follow the media so far. */
  startEpoch(): void {
    this.#shiftSeconds = null;
  }

  /** Rewrites every `tfdt` of the fragments in `buf` (a media segment: one or more moof + mdat) in place. */
  place(buf: Uint8Array): Uint8Array {
    let offset = 0;
    while (offset < buf.length) {
      const box = readBoxAt(buf, offset);
      if (!box) throw new Error(`truncated box at byte ${offset} of a ${buf.length}-byte segment`);
      if (box.type === 'moof') this.#placeMoof(buf, box.start, box.end);
      offset = box.end;
    }
    return buf;
  }

  #timescale(trackId: number): number {
    const track = this.#init.tracks.find((t) => t.trackId === trackId);
    if (!track) throw new Error(`fragment names track ${trackId}, which the init does not have`);
    return track.timescale;
  }

  #placeMoof(buf: Uint8Array, start: number, end: number): void {
    const moofBuf = buf.subarray(start, end);
    const fragments = parseFragment(moofBuf, this.#init);
    if (this.#shiftSeconds === null) {
      // The smallest shift that puts every track of this fragment at or after where it ended.
      let shift = 0;
      for (const f of fragments) {
        const ended = this.#end.get(f.trackId);
        if (ended !== undefined) shift = Math.max(shift, (ended - f.baseDecodeTime) / this.#timescale(f.trackId));
      }
      this.#shiftSeconds = shift;
    }
    const moof = findBox(moofBuf, undefined, ['moof'])!;
    const trafs = findAll(moofBuf, moof, 'traf');
    const view = viewOf(moofBuf);
    fragments.forEach((f, i) => {
      const tfdt = findBox(moofBuf, trafs[i], ['tfdt']);
      if (!tfdt) throw new Error(`track ${f.trackId}: a fragment without tfdt cannot be placed on the timeline`);
      const base = f.baseDecodeTime + Math.round(this.#shiftSeconds! * this.#timescale(f.trackId));
      if (moofBuf[tfdt.contentStart] === 1) view.setBigUint64(tfdt.contentStart + 4, BigInt(base));
      else if (base <= MAX_U32) view.setUint32(tfdt.contentStart + 4, base);
      else throw new Error(`track ${f.trackId}: decode time ${base} does not fit a version 0 tfdt`);
      this.#end.set(f.trackId, Math.max(this.#end.get(f.trackId) ?? 0, base + f.duration));
    });
  }
}
