/**
 * A shard's copy of the pushed state, its upstream's changes applied only when someone needs the
 * state whole (issue 14). A shard answers no playlist from its copy: it passes each change on as it
 * came (playlist-relay.ts), and needs the whole state only for a new subscriber's first message or
 * when its upstream changes. Each shard parsed and applied every change, then diffed and encoded it
 * again, three times a second per stream: 81 µs of JavaScript per part, 3.3 µs now when the part
 * comes (`npm run bench:relay-pass`).
 */
import type { PlaylistPushMessage, PushDelta } from '../stream-do/playlist-push.ts';
import { PushStates } from '../stream-do/push-reader.ts';

type StateMessage = Extract<PlaylistPushMessage, { type: 'state' }>;

/** Changes kept unapplied at most: past this they are applied (about 80 s of parts). */
const MAX_PENDING = 256;

export class LazyState {
  readonly #states = new PushStates();
  #pending: string[] = [];
  #seq: number;
  #heardAt: number | undefined;
  #whole: StateMessage | null = null;
  /** Told how many changes were applied each time some are (for tests and the simulation: most are only passed on). */
  readonly #onApplied: (changes: number) => void;

  /** Starts from a whole state, heard at `heardAt` (an edge shard says when; a relay does not). */
  constructor(state: StateMessage, heardAt?: number, onApplied: (changes: number) => void = () => {}) {
    this.#onApplied = onApplied;
    this.#states.take(state);
    this.#seq = state.seq;
    this.#heardAt = heardAt;
  }

  /** Takes the line of the change numbered `seq`; throws if it is not made from the newest state (a broken stream). */
  add(seq: number, base: number, line: string, heardAt?: number): void {
    if (base !== this.#seq) throw new Error(`playlist push: change ${seq} is made from state ${base}, but the last state here is ${this.#seq}`);
    this.#pending.push(line);
    this.#seq = seq;
    this.#heardAt = heardAt;
    this.#whole = null;
    if (this.#pending.length >= MAX_PENDING) this.#apply();
  }

  /** The newest state, whole (its changes applied now if they were not). */
  state(): StateMessage {
    this.#apply();
    this.#whole ??= { ...this.#states.last!, heardAt: this.#heardAt };
    return this.#whole;
  }

  #apply(): void {
    for (const line of this.#pending) this.#states.take(JSON.parse(line) as PushDelta);
    if (this.#pending.length) this.#onApplied(this.#pending.length);
    this.#pending = [];
  }
}
