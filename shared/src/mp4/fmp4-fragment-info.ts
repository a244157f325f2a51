import { findAll, findBox, viewOf } from './mp4-box.ts';
import type { InitInfo } from './fmp4-init-info.ts';

/** Timing of one track inside one fragment (moof + mdat). */
export interface TrackFragment {
  trackId: number;
  /** tfdt baseMediaDecodeTime, in the track's timescale. */
  baseDecodeTime: number;
  /** Sum of sample durations, in the track's timescale. */
  duration: number;
  sampleCount: number;
  /** The first sample is a sync sample (the fragment can start a segment). */
  startsWithSync: boolean;
}

/** Sample flag bit `sample_is_non_sync_sample` (ISO 14496-12 §8.8.3.1). */
const NON_SYNC = 0x00010000;

/** Parses the `moof` at the start of `buf` (a fragment: optional styp/prft, moof, mdat). */
export function parseFragment(buf: Uint8Array, init: InitInfo): TrackFragment[] {
  const view = viewOf(buf);
  const out: TrackFragment[] = [];
  const moof = findBox(buf, undefined, ['moof']);
  if (!moof) throw new Error('fragment has no moof box');
  for (const traf of findAll(buf, moof, 'traf')) {
    const tfhd = findBox(buf, traf, ['tfhd']);
    if (!tfhd) throw new Error('traf without tfhd');
    const tfhdFlags = view.getUint32(tfhd.contentStart) & 0xffffff;
    const trackId = view.getUint32(tfhd.contentStart + 4);
    const track = init.tracks.find((t) => t.trackId === trackId);
    let p = tfhd.contentStart + 8;
    if (tfhdFlags & 0x01) p += 8; // base_data_offset
    if (tfhdFlags & 0x02) p += 4; // sample_description_index
    let defaultDuration = track?.defaultSampleDuration ?? 0;
    let defaultFlags = track?.defaultSampleFlags ?? 0;
    if (tfhdFlags & 0x08) {
      defaultDuration = view.getUint32(p);
      p += 4;
    }
    if (tfhdFlags & 0x10) p += 4; // default_sample_size
    if (tfhdFlags & 0x20) defaultFlags = view.getUint32(p);

    const tfdt = findBox(buf, traf, ['tfdt']);
    let baseDecodeTime = 0;
    if (tfdt) {
      baseDecodeTime = buf[tfdt.contentStart] === 1 ? Number(view.getBigUint64(tfdt.contentStart + 4)) : view.getUint32(tfdt.contentStart + 4);
    }

    let duration = 0;
    let sampleCount = 0;
    let firstFlags: number | undefined;
    for (const trun of findAll(buf, traf, 'trun')) {
      const flags = view.getUint32(trun.contentStart) & 0xffffff;
      const count = view.getUint32(trun.contentStart + 4);
      let q = trun.contentStart + 8;
      if (flags & 0x01) q += 4; // data_offset
      let firstSampleFlags: number | undefined;
      if (flags & 0x04) {
        firstSampleFlags = view.getUint32(q);
        q += 4;
      }
      for (let i = 0; i < count; i++) {
        let sampleDuration = defaultDuration;
        let sampleFlags = i === 0 && firstSampleFlags !== undefined ? firstSampleFlags : defaultFlags;
        if (flags & 0x100) {
          sampleDuration = view.getUint32(q);
          q += 4;
        }
        if (flags & 0x200) q += 4;
        if (flags & 0x400) {
          sampleFlags = view.getUint32(q);
          q += 4;
        }
        if (flags & 0x800) q += 4;
        if (sampleCount === 0 && i === 0) firstFlags = sampleFlags;
        duration += sampleDuration;
      }
      sampleCount += count;
    }
    out.push({
      trackId,
      baseDecodeTime,
      duration,
      sampleCount,
      startsWithSync: firstFlags !== undefined && (firstFlags & NON_SYNC) === 0,
    });
  }
  return out;
}
