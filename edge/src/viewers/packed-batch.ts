/**
 * A viewer batch as it crosses an RPC call (isolate → StreamDO or edge shard, edge shard → relay,
 * relay → relay): the sessions in columns. An RPC argument is structured-cloned; an array of 6,000
 * session objects writes and reads every key of every object, three columns are one array of
 * strings and two typed arrays (2.9× less time to pack, clone and unpack: `npm run
 * bench:packed-batch`). The StreamDO turns them back into objects, which go into its maps anyway;
 * the fan-out shards read them straight from the columns (`forEachSession`).
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

/** Sessions added one by one into columns (`packSessions`, a relay's exchange). */
export class PackedSessionsBuilder {
  readonly #renditions: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #sids: string[] = [];
  readonly #rendition: number[] = [];
  readonly #lastSeen: number[] = [];

  /** One more session, after the ones added before. */
  add(sid: string, rendition: string, lastSeen: number): void {
    let k = this.#index.get(rendition);
    if (k === undefined) {
      if (this.#renditions.length === 0xffff) throw new RangeError('a viewer batch has more than 65,535 distinct renditions');
      this.#index.set(rendition, (k = this.#renditions.length));
      this.#renditions.push(rendition);
    }
    this.#sids.push(sid);
    this.#rendition.push(k);
    this.#lastSeen.push(lastSeen);
  }

  build(): PackedSessions {
    return { sids: this.#sids, renditions: this.#renditions, rendition: Uint16Array.from(this.#rendition), lastSeen: Float64Array.from(this.#lastSeen) };
  }
}

export function packSessions(list: readonly SessionSeen[]): PackedSessions {
  const builder = new PackedSessionsBuilder();
  for (const s of list) builder.add(s.sid, s.rendition, s.lastSeen);
  return builder.build();
}

/**
 * Calls `fn` with each session's columns, without making an object of it (a relay counts its sessions
 * straight from the batch); columns of different lengths or a rendition index out of range throw
 * before the first call (a batch not made by `packSessions`).
 */
export function forEachSession(p: PackedSessions, fn: (sid: string, rendition: string, lastSeen: number, i: number) => void): void {
  const n = p.sids.length;
  if (p.rendition.length !== n || p.lastSeen.length !== n) throw new TypeError(`packed sessions: ${n} ids, ${p.rendition.length} renditions, ${p.lastSeen.length} times`);
  for (let i = 0; i < n; i++) if (p.rendition[i]! >= p.renditions.length) throw new TypeError(`packed sessions: rendition index ${p.rendition[i]} of ${p.renditions.length}`);
  for (let i = 0; i < n; i++) fn(p.sids[i]!, p.renditions[p.rendition[i]!]!, p.lastSeen[i]!, i);
}

/** The sessions again, as objects; throws as `forEachSession` does. */
export function unpackSessions(p: PackedSessions): SessionSeen[] {
  const out = new Array<SessionSeen>(p.sids.length);
  forEachSession(p, (sid, rendition, lastSeen, i) => (out[i] = { sid, rendition, lastSeen }));
  return out;
}

export function packBatch(batch: ViewerBatch): PackedViewerBatch {
  return { sessions: packSessions(batch.sessions), qoe: batch.qoe };
}

export function unpackBatch(packed: PackedViewerBatch): ViewerBatch {
  return { sessions: unpackSessions(packed.sessions), qoe: packed.qoe };
}
