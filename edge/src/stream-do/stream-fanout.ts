/**
 * The StreamDO's side of the fan-out tier (issue 14): whether the tier is engaged (fanout-policy.ts),
 * the relay shards' counts while they count (relay-counts.ts), the sessions handed to the relays
 * when it engages and taken back when it disengages, and the sessions of flushes that still reach
 * the StreamDO, passed on to the relays. The StreamDO calls it from its RPC methods; it owns no SQL.
 */
import type { Env } from '../env.ts';
import type { FanoutSettings } from '../fanout/fanout-settings.ts';
import { partitionOf } from '../fanout/partition-counter.ts';
import { relayShardName } from '../fanout/shard-names.ts';
import { shardStub } from '../fanout/shard-stub.ts';
import { emptyQoe, type SessionSeen } from '../viewers/viewer-batch.ts';
import { packBatch } from '../viewers/packed-batch.ts';
import type { AudienceStore } from './audience-store.ts';
import { FanoutPolicy } from './fanout-policy.ts';
import { RelayCounts } from './relay-counts.ts';
import type { StreamAudience } from './stream-audience.ts';

/** After the tier engages, the StreamDO keeps counting for this long while isolates move to their edge shards. */
const RELAY_COUNT_GRACE_MS = 2000;

/** What the StreamDO lends its fan-out side. */
export interface FanoutDeps {
  env: Env;
  settings: FanoutSettings;
  /** The stream's id and viewer window now, or null without a stream. */
  stream(): { id: string; viewerWindowMs: number } | null;
  audienceStore: Pick<AudienceStore, 'liveSessions' | 'recordSessions' | 'countElsewhere'>;
  audience: Pick<StreamAudience, 'countBy'>;
  /** Runs SQL changes as one write (the StreamWriter). */
  write(fn: () => void): void;
  /** The pushed state changed (it carries `fanout`). */
  changed(): void;
  waitUntil(work: Promise<unknown>): void;
}

export class StreamFanout {
  readonly #d: FanoutDeps;
  readonly #policy: FanoutPolicy;
  readonly #counts = new RelayCounts();

  constructor(deps: FanoutDeps) {
    this.#d = deps;
    this.#policy = new FanoutPolicy(deps.settings);
  }

  get engaged(): boolean {
    return this.#policy.engaged;
  }

  isolates(now: number): number {
    return this.#policy.isolates(now);
  }

  /** `source` (an isolate, or a relay shard) serves `isolates` isolates: engages or disengages the tier when that crosses its marks. */
  observe(source: string, isolates: number): void {
    const now = Date.now();
    if (!this.#policy.observe(source, isolates, now)) return;
    console.log(`stream ${this.#d.stream()?.id}: fan-out tier ${this.engaged ? 'engaged' : 'disengaged'} (${this.isolates(now)} isolates)`);
    this.#d.changed();
    this.#d.waitUntil(this.engaged ? this.#engaged() : this.#disengaged());
  }

  /** A relay's latest counts per rendition. */
  relayCounts(relay: number, renditions: Record<string, number>, now: number): void {
    this.#counts.record(relay, renditions, now);
  }

  /** The relays' last reports, as `RelayCounts.reports`. */
  relayReports(now: number): { relay: number; ageMs: number; viewers: number }[] {
    return this.#counts.reports(now);
  }

  /**
   * Sessions of a flush that still reached the StreamDO while the tier is engaged go to the relays:
   * as new polls once they count, handed over (already counted here) in the grace second before.
   */
  passOn(sessions: readonly SessionSeen[], relaysCount: boolean): void {
    if (this.engaged && sessions.length > 0) this.#toRelays(relaysCount ? 'recordViewers' : 'handOver', sessions);
  }

  /** The tier engaged: the sessions counted here go to the relays, which count after a grace period. */
  async #engaged(): Promise<void> {
    const stream = this.#d.stream();
    if (!stream) return;
    this.#toRelays('handOver', this.#d.audienceStore.liveSessions(Date.now() - stream.viewerWindowMs));
    setTimeout(() => {
      if (this.engaged) this.#d.audience.countBy((at) => this.#counts.sum(at));
    }, RELAY_COUNT_GRACE_MS);
  }

  /** The tier disengaged: the relays' sessions are taken back into the table first, then the StreamDO counts. */
  async #disengaged(): Promise<void> {
    const stream = this.#d.stream();
    if (!stream) return;
    const since = Date.now() - stream.viewerWindowMs;
    const taken = await Promise.all(
      Array.from({ length: this.#d.settings.relays }, async (_, k) => {
        const name = relayShardName(stream.id, k);
        try {
          return await shardStub(this.#d.env, name).takeSessions(name, since);
        } catch (err) {
          console.warn(`fan-out: sessions of relay ${k} not taken back:`, err);
          return [];
        }
      }),
    );
    if (this.engaged) return; // engaged again meanwhile
    this.#d.write(() => {
      // Rows made now for sessions the relays saw first were already in the total.
      const added = this.#d.audienceStore.recordSessions(taken.flat());
      this.#d.audienceStore.countElsewhere(-added);
    });
    this.#d.audience.countBy(null);
    this.#counts.clear();
  }

  /** Sends sessions to the relay shards, each its partition (not awaited: a failure costs one second of polls). */
  #toRelays(method: 'recordViewers' | 'handOver', sessions: readonly SessionSeen[]): void {
    const id = this.#d.stream()?.id;
    if (!id) return;
    const parts = new Map<number, SessionSeen[]>();
    for (const s of sessions) {
      const k = partitionOf(s.sid, this.#d.settings.relays);
      let list = parts.get(k);
      if (!list) parts.set(k, (list = []));
      list.push(s);
    }
    for (const [k, list] of parts) {
      const name = relayShardName(id, k);
      const relay = shardStub(this.#d.env, name);
      const sent = method === 'handOver' ? relay.handOver(name, list) : relay.recordViewers(name, 'stream-do', 0, packBatch({ sessions: list, qoe: emptyQoe() }));
      this.#d.waitUntil(Promise.resolve(sent).catch((err: unknown) => console.warn(`fan-out: sessions not sent to relay ${k}:`, err)));
    }
  }
}
