import { childBoxes, findAll, findBox, viewOf, type Mp4Box } from './mp4-box.ts';

/** What a CMAF init segment says about one track. */
export interface TrackInfo {
  trackId: number;
  kind: 'video' | 'audio' | 'other';
  timescale: number;
  /** RFC 6381 codec string, e.g. `avc1.64001f` or `mp4a.40.2`. */
  codec: string;
  width: number;
  height: number;
  /** Defaults from `trex`, used when a fragment does not override them. */
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

/** Parsed init segment: its tracks in file order. */
export interface InitInfo {
  tracks: TrackInfo[];
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** `avc1.PPCCLL` from the avcC record (profile, constraint flags, level). */
function avcCodec(buf: Uint8Array, entry: Mp4Box, fourcc: string): string {
  // Visual sample entries have 78 bytes of fixed fields before their child boxes.
  const children = childBoxes(buf, { ...entry, type: 'entry', contentStart: entry.contentStart + 78 });
  const avcC = children.find((b) => b.type === 'avcC');
  if (!avcC) return fourcc;
  const p = avcC.contentStart;
  return `${fourcc}.${hex2(buf[p + 1]!)}${hex2(buf[p + 2]!)}${hex2(buf[p + 3]!)}`;
}

/** `mp4a.40.<audio object type>` from the esds descriptors (ISO 14496-1 §7.2.6). */
function mp4aCodec(buf: Uint8Array, entry: Mp4Box): string {
  // Audio sample entries (v0) have 28 bytes of fixed fields before their child boxes.
  const children = childBoxes(buf, { ...entry, type: 'entry', contentStart: entry.contentStart + 28 });
  const esds = children.find((b) => b.type === 'esds');
  if (!esds) return 'mp4a';
  let p = esds.contentStart + 4; // full box header
  let objectType = 0;
  let audioObjectType = 0;
  while (p < esds.end) {
    const tag = buf[p++]!;
    let len = 0;
    for (let i = 0; i < 4; i++) {
      const b = buf[p++]!;
      len = (len << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    if (tag === 0x03) {
      const flags = buf[p + 2]!;
      p += 3 + (flags & 0x80 ? 2 : 0) + (flags & 0x40 ? 1 + buf[p + 3]! : 0) + (flags & 0x20 ? 2 : 0);
    } else if (tag === 0x04) {
      objectType = buf[p]!;
      p += 13;
    } else if (tag === 0x05) {
      audioObjectType = buf[p]! >> 3;
      break;
    } else {
      p += len;
    }
  }
  if (!objectType) return 'mp4a';
  return audioObjectType ? `mp4a.${hex2(objectType)}.${audioObjectType}` : `mp4a.${hex2(objectType)}`;
}

/** Parses an init segment (ftyp + moov). Throws naming the missing box when it is not one. */
export function parseInitSegment(buf: Uint8Array): InitInfo {
  const view = viewOf(buf);
  const moov = childBoxes(buf).find((b) => b.type === 'moov');
  if (!moov) throw new Error('init segment has no moov box');
  const trex = new Map<number, { duration: number; flags: number }>();
  const mvex = findBox(buf, moov, ['mvex']);
  for (const t of mvex ? findAll(buf, mvex, 'trex') : []) {
    const p = t.contentStart + 4;
    trex.set(view.getUint32(p), { duration: view.getUint32(p + 8), flags: view.getUint32(p + 16) });
  }
  const tracks: TrackInfo[] = [];
  for (const trak of findAll(buf, moov, 'trak')) {
    const tkhd = findBox(buf, trak, ['tkhd']);
    const mdhd = findBox(buf, trak, ['mdia', 'mdhd']);
    const hdlr = findBox(buf, trak, ['mdia', 'hdlr']);
    const stsd = findBox(buf, trak, ['mdia', 'minf', 'stbl', 'stsd']);
    if (!tkhd || !mdhd || !hdlr || !stsd) throw new Error('init segment track lacks tkhd/mdhd/hdlr/stsd');
    const tkhdVersion = buf[tkhd.contentStart]!;
    const trackId = view.getUint32(tkhd.contentStart + (tkhdVersion === 1 ? 20 : 12));
    const mdhdVersion = buf[mdhd.contentStart]!;
    const timescale = view.getUint32(mdhd.contentStart + (mdhdVersion === 1 ? 20 : 12));
    const handler = String.fromCharCode(...buf.subarray(hdlr.contentStart + 8, hdlr.contentStart + 12));
    // tkhd ends with width and height as 16.16 fixed point.
    const width = view.getUint32(tkhd.end - 8) >>> 16;
    const height = view.getUint32(tkhd.end - 4) >>> 16;
    const entry = childBoxes(buf, { ...stsd, contentStart: stsd.contentStart + 8 })[0];
    let codec = entry?.type ?? 'unknown';
    if (entry && (entry.type === 'avc1' || entry.type === 'avc3')) codec = avcCodec(buf, entry, entry.type);
    else if (entry && entry.type === 'mp4a') codec = mp4aCodec(buf, entry);
    const defaults = trex.get(trackId) ?? { duration: 0, flags: 0 };
    tracks.push({
      trackId,
      kind: handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'other',
      timescale,
      codec,
      width,
      height,
      defaultSampleDuration: defaults.duration,
      defaultSampleFlags: defaults.flags,
    });
  }
  return { tracks };
}

/** The RFC 6381 CODECS attribute for all audio/video tracks, video first. */
export function codecsAttribute(info: InitInfo): string {
  const video = info.tracks.filter((t) => t.kind === 'video').map((t) => t.codec);
  const audio = info.tracks.filter((t) => t.kind === 'audio').map((t) => t.codec);
  return [...video, ...audio].join(',');
}
