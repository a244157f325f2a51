/**
 * The relay shards' exchange of viewer sessions (issue 14). Each relay counts one partition of the
 * session ids (`partitionOf`), so counts stay exact whichever locations a viewer's polls come
 * through. An edge shard sends its merged batch to its home relay only (one call a second, where it
 * sent each of the R relays its partition, C × R calls a second in all); the home relay keeps its
 * own partition and passes every other relay its partition EXCHANGE_MS later, the sessions that came
 * meanwhile from all its edge shards together. Calls a second: C + R·(R − 1)·1000/EXCHANGE_MS in
 * all (C × R before), C/R + (R − 1)·1000/EXCHANGE_MS into one relay.
 *
 * The exchange adds up to EXCHANGE_MS to a session's way to its counting relay; relays report every
 * RELAY_REPORT_MS instead of every second, so a session is as old when counted as before.
 */
import { PackedSessionsBuilder, type PackedSessions } from '../viewers/packed-batch.ts';

/** How often a relay passes the other relays their sessions. */
export const EXCHANGE_MS = 500;

/** How often a relay reports its counts to the StreamDO (half the edge's second: pays for the exchange). */
export const RELAY_REPORT_MS = 500;

/** A relay's source name for its exchange batches: the receiver counts them and passes none of them on. */
export function exchangeSource(relay: number): string {
  return `x:${relay}`;
}

export function isExchangeSource(source: string): boolean {
  return source.startsWith('x:');
}

/** Sends relay `relay` its sessions; resolves when it answered. */
export type SendSessions = (relay: number, sessions: PackedSessions) => Promise<void>;

export class SessionExchange {
  readonly #send: SendSessions;
  readonly #intervalMs: number;
  /**
   * Per relay, the polls not passed on yet, in columns as they go. Not made unique per session: a
   * session's polls come through an edge shard once a second, so two in one interval are rare (a
   * viewer changing location), and the receiving relay keeps the latest anyway.
   */
  #pending = new Map<number, PackedSessionsBuilder>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Batches passed on (stats, tests). */
  sent = 0;

  constructor(send: SendSessions, intervalMs = EXCHANGE_MS) {
    this.#send = send;
    this.#intervalMs = intervalMs;
  }

  /** Session `sid`'s poll belongs to relay `relay`: it goes with the next exchange. */
  add(relay: number, sid: string, rendition: string, lastSeen: number): void {
    let sessions = this.#pending.get(relay);
    if (!sessions) this.#pending.set(relay, (sessions = new PackedSessionsBuilder()));
    sessions.add(sid, rendition, lastSeen);
    this.#timer ??= setTimeout(() => void this.#flush(), this.#intervalMs);
  }

  async #flush(): Promise<void> {
    this.#timer = null;
    const pending = this.#pending;
    this.#pending = new Map();
    await Promise.all(
      [...pending].map(async ([relay, sessions]) => {
        this.sent++;
        try {
          await this.#send(relay, sessions.build());
        } catch (err) {
          // A lost exchange delays its sessions until their next poll is passed on (a second or two).
          console.warn(`fan-out: sessions not passed to relay ${relay}:`, err);
        }
      }),
    );
  }
}
