/**
 * A viewer batch as it crosses an RPC call (isolate → StreamDO or edge shard, edge shard → relay,
 * relay → relay): the sessions in columns. An RPC argument is structured-cloned; an array of 6,000
 * session objects writes and reads every key of every object, three columns are one array of
 * strings and two typed arrays (2.9× less time to pack, clone and unpack: `npm run
 * bench:packed-batch`). The sessions are turned back into objects at the receiving end, where they
 * go into maps anyway.
 */
import type { QoeDelta, SessionSeen, ViewerBatch } from './viewer-batch.ts';

/** Sessions in columns: `sids[i]` was last seen at `lastSeen[i]` on `renditions[rendition[i]]`. */
export interface PackedSessions {
  sids: string[];
  /** The distinct renditions of the batch. */
  renditions: string[];
  rendition: Uint16Array;
  lastSeen: Float64Array;
}

export interface PackedViewerBatch {
  sessions: PackedSessions;
  qoe: QoeDelta;
}

export function packSessions(list: readonly SessionSeen[]): PackedSessions {
  const renditions: string[] = [];
  const index = new Map<string, number>();
  const sids = new Array<string>(list.length);
  const rendition = new Uint16Array(list.length);
  const lastSeen = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    let k = index.get(s.rendition);
    if (k === undefined) {
      if (renditions.length === 0xffff) throw new RangeError('a viewer batch has more than 65,535 distinct renditions');
      index.set(s.rendition, (k = renditions.length));
      renditions.push(s.rendition);
    }
    sids[i] = s.sid;
    rendition[i] = k;
    lastSeen[i] = s.lastSeen;
  }
  return { sids, renditions, rendition, lastSeen };
}

/** The sessions again; columns of different lengths or a rendition index out of range throw (a batch not made by `packSessions`). */
export function unpackSessions(p: PackedSessions): SessionSeen[] {
  const n = p.sids.length;
  if (p.rendition.length !== n || p.lastSeen.length !== n) throw new TypeError(`packed sessions: ${n} ids, ${p.rendition.length} renditions, ${p.lastSeen.length} times`);
  const out = new Array<SessionSeen>(n);
  for (let i = 0; i < n; i++) {
    const rendition = p.renditions[p.rendition[i]!];
    if (rendition === undefined) throw new TypeError(`packed sessions: rendition index ${p.rendition[i]} of ${p.renditions.length}`);
    out[i] = { sid: p.sids[i]!, rendition, lastSeen: p.lastSeen[i]! };
  }
  return out;
}

export function packBatch(batch: ViewerBatch): PackedViewerBatch {
  return { sessions: packSessions(batch.sessions), qoe: batch.qoe };
}

export function unpackBatch(packed: PackedViewerBatch): ViewerBatch {
  return { sessions: unpackSessions(packed.sessions), qoe: packed.qoe };
}
