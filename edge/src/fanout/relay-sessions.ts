/**
 * What a relay shard does with the sessions that reach it (issue 14): it counts its own partition of
 * them as they come (`PartitionCounter`) and passes every other relay its partition with the next
 * exchange (`SessionExchange`), straight from the batch's columns: no session becomes an object on
 * the way. Measured per session: `npm run bench:viewer-path`.
 */
import { forEachSession, type PackedSessions } from '../viewers/packed-batch.ts';
import { partitionOf, type PartitionCounter } from './partition-counter.ts';
import { SessionExchange, type SendSessions } from './session-exchange.ts';

export class RelaySessions {
  readonly #counter: PartitionCounter;
  readonly #index: number;
  readonly #relays: number;
  readonly #exchange: SessionExchange;

  /** Relay `index` of `relays`, counting into `counter`, sending the others theirs with `send`. */
  constructor(counter: PartitionCounter, index: number, relays: number, send: SendSessions, exchangeMs?: number) {
    this.#counter = counter;
    this.#index = index;
    this.#relays = relays;
    this.#exchange = new SessionExchange(send, exchangeMs);
  }

  /** A batch's sessions: its own counted, the others kept for their relays. `all`: every one is this relay's (an exchange batch). */
  take(sessions: PackedSessions, all: boolean): void {
    forEachSession(sessions, (sid, rendition, lastSeen) => {
      const k = all ? this.#index : partitionOf(sid, this.#relays);
      if (k === this.#index) this.#counter.recordPoll(sid, rendition, lastSeen);
      else this.#exchange.add(k, sid, rendition, lastSeen);
    });
  }

  /** Exchange batches sent (stats). */
  get exchanged(): number {
    return this.#exchange.sent;
  }
}
