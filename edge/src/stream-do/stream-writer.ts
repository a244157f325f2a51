import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { StreamEvent } from '../../../shared/src/feed/feed-messages.ts';
import type { StreamStatus } from '../../../shared/src/types.ts';
import { fail, ok, type DoResult } from './do-result.ts';
import { transition, type LifecycleEvent } from './stream-state-machine.ts';

/** A transition the state machine refused, logged as a `transition_refused` event. */
interface RefusedTransition {
  from: StreamStatus;
  event: LifecycleEvent;
  message: string;
}

/** What code running inside a write may do besides its SQL. */
export interface WriteContext {
  /** Appends an event to the log; it reaches the feed only once the write commits. */
  event(now: number, type: string, data: Record<string, unknown>): void;
  /** The status after `event`; throws `invalid_transition`, logged as `transition_refused` after the rollback. */
  transition(from: StreamStatus, event: LifecycleEvent): StreamStatus;
}

/** Synchronous transactions, as `DurableObjectStorage` has them (a fake in unit tests). */
export interface TransactionalStorage {
  transactionSync<T>(fn: () => T): T;
}

/** Where a write's events are stored (the StreamStore). */
export interface EventAppender {
  appendEvent(ts: number, type: string, data: Record<string, unknown>): StreamEvent;
}

/**
 * Runs a StreamDO's check-and-change writes: each as one SQLite transaction, a thrown EdgeliveError
 * rolling it back and becoming the answer, and the write's events handed to `publish` only after it
 * commits (written before broadcast). The Durable Object serialises calls, so one writer is enough.
 */
export class StreamWriter {
  readonly #storage: TransactionalStorage;
  readonly #log: EventAppender;
  readonly #publish: (events: readonly StreamEvent[]) => void;
  /** Events appended by the write in progress. */
  #pending: StreamEvent[] = [];
  /** A lifecycle transition the write in progress tried and was refused. */
  #refused: RefusedTransition | null = null;
  readonly #context: WriteContext = {
    event: (now, type, data) => {
      this.#pending.push(this.#log.appendEvent(now, type, data));
    },
    transition: (from, event) => {
      const to = transition(from, event);
      if (to instanceof EdgeliveError) {
        this.#refused = { from, event, message: to.message };
        throw to;
      }
      return to;
    },
  };

  constructor(storage: TransactionalStorage, log: EventAppender, publish: (events: readonly StreamEvent[]) => void) {
    this.#storage = storage;
    this.#log = log;
    this.#publish = publish;
  }

  /** Runs `fn` as one transaction; a thrown EdgeliveError rolls it back and becomes the answer. */
  write<T>(fn: (tx: WriteContext) => T): DoResult<T> {
    this.#pending = [];
    this.#refused = null;
    try {
      const value = this.#storage.transactionSync(() => fn(this.#context));
      this.#flush();
      return ok(value);
    } catch (err) {
      this.#pending = [];
      // Set through the context inside fn; TypeScript cannot see that through the callback.
      const refused = this.#refused as RefusedTransition | null;
      this.#refused = null;
      if (refused) {
        // The change was rolled back; the refusal itself is worth keeping.
        console.warn(`stream transition refused: ${refused.message}`);
        this.#storage.transactionSync(() => this.#context.event(Date.now(), 'transition_refused', { ...refused }));
        this.#flush();
      }
      if (err instanceof EdgeliveError) return fail(err.code, err.message);
      throw err;
    }
  }

  #flush(): void {
    const events = this.#pending;
    this.#pending = [];
    this.#publish(events);
  }
}
