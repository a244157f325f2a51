/**
 * Tiny fragmented MP4s for tests in workerd (no file system there): an init (ftyp + moov with one
 * video and one audio track) and fragments (moof + mdat) with the boxes the edge reads — track ids,
 * timescales, sample descriptions, tfdt and trun sample durations. Not playable media.
 */

function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const size = 8 + payload.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set(new TextEncoder().encode(type), 4);
  let o = 8;
  for (const p of payload) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setUint32(i * 4, v));
  return out;
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** One track of the init: id, timescale, handler and an opaque sample description entry. */
export interface TinyTrack {
  id: number;
  timescale: number;
  handler: 'vide' | 'soun';
  /** Stands for the codec configuration: a different value is another encoder configuration. */
  config: number;
}

/** Video 90 kHz (track 1) and audio 48 kHz (track 2), as the origin's renditions carry. */
export const AV_TRACKS: TinyTrack[] = [
  { id: 1, timescale: 90_000, handler: 'vide', config: 1 },
  { id: 2, timescale: 48_000, handler: 'soun', config: 1 },
];

export function tinyInit(tracks: TinyTrack[] = AV_TRACKS): Uint8Array {
  const traks = tracks.map((t) =>
    box(
      'trak',
      // tkhd v0: flags, created, modified, track id, reserved, duration, 52 bytes of fields, width, height.
      box('tkhd', u32s(0, 0, 0, t.id, 0, 0), new Uint8Array(52), u32s(0, 0)),
      box(
        'mdia',
        box('mdhd', u32s(0, 0, 0, t.timescale, 0, 0)),
        box('hdlr', u32s(0, 0), new TextEncoder().encode(t.handler), u32s(0, 0, 0), new Uint8Array(1)),
        box('minf', box('stbl', box('stsd', u32s(0, 1), box('tst1', u32s(t.config))))),
      ),
    ),
  );
  const trex = tracks.map((t) => box('trex', u32s(0, t.id, 1, 0, 0, 0)));
  return new Uint8Array([...box('ftyp', new TextEncoder().encode('iso6'), u32s(0)), ...box('moov', box('mvhd', new Uint8Array(100)), ...traks, box('mvex', ...trex))]);
}

/** One track's run in a fragment: its decode time and each sample's duration. */
export interface TinyRun {
  trackId: number;
  baseDecodeTime: number;
  durations: number[];
}

/** A fragment: moof (mfhd, a traf per run with tfhd, tfdt v1 and trun with durations) + a small mdat. */
export function tinyFragment(sequence: number, runs: TinyRun[]): Uint8Array {
  const trafs = runs.map((r) =>
    box(
      'traf',
      box('tfhd', u32s(0x020000, r.trackId)),
      box('tfdt', u32s(0x01000000), u64(r.baseDecodeTime)),
      box('trun', u32s(0x000100, r.durations.length), u32s(...r.durations)),
    ),
  );
  return new Uint8Array([...box('moof', box('mfhd', u32s(0, sequence)), ...trafs), ...box('mdat', new Uint8Array(16))]);
}

/** The decode time of each track's run in `fragment` (what a player sees), by track id. */
export function decodeTimes(fragment: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  const view = new DataView(fragment.buffer, fragment.byteOffset, fragment.byteLength);
  let trackId = 0;
  for (let i = 0; i + 8 <= fragment.length; i++) {
    const type = String.fromCharCode(...fragment.subarray(i + 4, i + 8));
    if (type === 'tfhd') trackId = view.getUint32(i + 12);
    if (type === 'tfdt') out.set(trackId, Number(view.getBigUint64(i + 12)));
  }
  return out;
}
