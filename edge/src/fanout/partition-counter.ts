/**
 * A relay shard's exact viewer counts for its partition of session ids (issue 14). Each session id
 * belongs to one relay (`partitionOf`), so the StreamDO's sum of the relays' counts counts every
 * viewer once, whichever locations and isolates its polls came through, and the StreamDO no longer
 * writes a row per poll. Memory only: a relay that restarts counts again from the next polls
 * (within one viewer window) and reports no new sessions for the ones it forgot.
 *
 * Counts are exact at the millisecond like the StreamDO's (`AudienceStore.counts`): whole seconds
 * of the window from per-second buckets, the part-second the window starts in from its sessions.
 */
import { murmur3 } from '../../../shared/src/hashing/murmur3.ts';
import type { SessionSeen } from '../viewers/viewer-batch.ts';

/** The relay (0 ≤ k < relays) that counts session `sid`. */
export function partitionOf(sid: string, relays: number): number {
  return murmur3(sid, 0x0c0417) % relays;
}

/** What a relay reports to the StreamDO once a second. */
export interface PartitionCounts {
  /** Sessions seen within the viewer window, per rendition. */
  renditions: Record<string, number>;
  /** Sessions this relay saw first (not handed over by the StreamDO) since its last report. */
  newSessions: number;
  /** Per minute (the one just ended too, when it ended since the last report): sessions seen for the first time in it since the last report. */
  minutes: { minute: number; newUnique: number }[];
}

const MINUTE_MS = 60_000;

/** A counted session: its latest poll, and the bucket its id is in. */
interface Entry {
  rendition: string;
  lastSeen: number;
  bucket: Set<string>;
}

export class PartitionCounter {
  /** Each session's latest poll and the bucket that holds its id (updated in place: a poll allocates nothing for a known session). */
  readonly #sessions = new Map<string, Entry>();
  /** second → rendition → session ids whose latest poll fell in that second. */
  readonly #buckets = new Map<number, Map<string, Set<string>>>();
  #newSessions = 0;
  #minute = -1;
  readonly #minuteSeen = new Set<string>();
  #newUnique = 0;
  /** The minute that ended since the last report, with what it had not reported yet. */
  #ended: { minute: number; newUnique: number } | null = null;

  /** A poll seen through the tier: each session keeps its latest (an older poll arriving late changes nothing). */
  recordPoll(sid: string, rendition: string, lastSeen: number): void {
    if (this.#upsert(sid, rendition, lastSeen)) this.#newSessions++;
    this.#seenInMinute(sid, lastSeen);
  }

  /** Sessions the StreamDO counted before the tier engaged: counted here from now on, not reported as new. */
  handOver(sessions: readonly SessionSeen[]): void {
    for (const s of sessions) this.#upsert(s.sid, s.rendition, s.lastSeen);
  }

  /** Sessions seen since `since` (the StreamDO takes them back when the tier disengages). */
  liveSessions(since: number): SessionSeen[] {
    const out: SessionSeen[] = [];
    for (const [sid, s] of this.#sessions) if (s.lastSeen >= since) out.push({ sid, rendition: s.rendition, lastSeen: s.lastSeen });
    return out;
  }

  /** The report at `now` over a viewer window of `windowMs`; resets the new-session counters. Forgets sessions older than `forgetBefore`. */
  report(now: number, windowMs: number, forgetBefore: number): PartitionCounts {
    const since = now - windowMs;
    const firstWhole = Math.ceil(since / 1000);
    const renditions: Record<string, number> = {};
    for (const [second, byRendition] of this.#buckets) {
      if (second < firstWhole - 1) continue;
      for (const [rendition, sids] of byRendition) {
        let n = 0;
        if (second >= firstWhole) n = sids.size;
        else for (const sid of sids) if (this.#sessions.get(sid)!.lastSeen >= since) n++;
        if (n > 0) renditions[rendition] = (renditions[rendition] ?? 0) + n;
      }
    }
    this.#forget(forgetBefore);
    this.#rollMinute(now);
    const minutes = [...(this.#ended ? [this.#ended] : []), { minute: this.#minute, newUnique: this.#newUnique }].filter((m) => m.newUnique > 0);
    const counts: PartitionCounts = { renditions, newSessions: this.#newSessions, minutes };
    this.#newSessions = 0;
    this.#newUnique = 0;
    this.#ended = null;
    return counts;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Returns true for a session not known before. */
  #upsert(sid: string, rendition: string, lastSeen: number): boolean {
    const known = this.#sessions.get(sid);
    if (!known) {
      const bucket = this.#bucket(lastSeen, rendition);
      bucket.add(sid);
      this.#sessions.set(sid, { rendition, lastSeen, bucket });
      return true;
    }
    if (lastSeen < known.lastSeen) return false;
    const bucket = this.#bucket(lastSeen, rendition);
    if (bucket !== known.bucket) {
      known.bucket.delete(sid);
      bucket.add(sid);
      known.bucket = bucket;
    }
    known.rendition = rendition;
    known.lastSeen = lastSeen;
    return false;
  }

  #bucket(ms: number, rendition: string): Set<string> {
    const second = Math.floor(ms / 1000);
    let byRendition = this.#buckets.get(second);
    if (!byRendition) this.#buckets.set(second, (byRendition = new Map()));
    let sids = byRendition.get(rendition);
    if (!sids) byRendition.set(rendition, (sids = new Set()));
    return sids;
  }

  #forget(before: number): void {
    const last = Math.floor(before / 1000);
    for (const [second, byRendition] of this.#buckets) {
      if (second >= last) continue;
      for (const sids of byRendition.values()) for (const sid of sids) this.#sessions.delete(sid);
      this.#buckets.delete(second);
    }
  }

  #seenInMinute(sid: string, lastSeen: number): void {
    this.#rollMinute(lastSeen);
    if (Math.floor(lastSeen / MINUTE_MS) * MINUTE_MS !== this.#minute || this.#minuteSeen.has(sid)) return;
    this.#minuteSeen.add(sid);
    this.#newUnique++;
  }

  #rollMinute(now: number): void {
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    if (minute <= this.#minute) return;
    if (this.#newUnique > 0) this.#ended = { minute: this.#minute, newUnique: this.#newUnique };
    this.#minute = minute;
    this.#minuteSeen.clear();
    this.#newUnique = 0;
  }
}
