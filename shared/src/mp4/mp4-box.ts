/** Minimal ISO-BMFF box reading: enough to follow CMAF init and fragment structure. Pure. */

/** One box located inside a buffer. `start` is the header offset, `contentStart` its payload. */
export interface Mp4Box {
  type: string;
  start: number;
  contentStart: number;
  end: number;
}

/** Boxes whose payload is only child boxes (the ones we descend into). */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'edts', 'dinf']);

/**
 * Reads the box header at `offset`. Returns null when fewer bytes than the header or the box
 * are available (the caller waits for more data), or throws when the header is malformed.
 */
export function readBoxAt(buf: Uint8Array, offset: number, limit = buf.length): Mp4Box | null {
  if (limit - offset < 8) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let size = view.getUint32(offset);
  const type = String.fromCharCode(buf[offset + 4]!, buf[offset + 5]!, buf[offset + 6]!, buf[offset + 7]!);
  let header = 8;
  if (size === 1) {
    if (limit - offset < 16) return null;
    size = Number(view.getBigUint64(offset + 8));
    header = 16;
  } else if (size === 0) {
    size = limit - offset;
  }
  if (size < header) throw new Error(`malformed mp4 box '${type}' at ${offset}: size ${size}`);
  if (offset + size > limit) return null;
  return { type, start: offset, contentStart: offset + header, end: offset + size };
}

/** The direct children of a container box (or of a whole buffer when `parent` is omitted). */
export function childBoxes(buf: Uint8Array, parent?: Mp4Box): Mp4Box[] {
  const out: Mp4Box[] = [];
  let offset = parent ? parent.contentStart : 0;
  const end = parent ? parent.end : buf.length;
  while (offset < end) {
    const box = readBoxAt(buf, offset, end);
    if (!box) throw new Error(`truncated mp4 box at ${offset}`);
    out.push(box);
    offset = box.end;
  }
  return out;
}

/** Follows a path of box types from `parent` (e.g. `['trak','mdia','mdhd']`), first match at each step. */
export function findBox(buf: Uint8Array, parent: Mp4Box | undefined, path: string[]): Mp4Box | undefined {
  let current = parent;
  for (const type of path) {
    if (current && !CONTAINERS.has(current.type)) return undefined;
    current = childBoxes(buf, current).find((b) => b.type === type);
    if (!current) return undefined;
  }
  return current;
}

/** All children of `parent` with the given type. */
export function findAll(buf: Uint8Array, parent: Mp4Box | undefined, type: string): Mp4Box[] {
  return childBoxes(buf, parent).filter((b) => b.type === type);
}

/** A DataView over the whole buffer (box offsets are absolute). */
export function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
