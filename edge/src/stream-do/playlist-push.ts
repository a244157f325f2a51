/**
 * The StreamDO's playlist push: isolates (and, later, fan-out shards) subscribe once and get every
 * rendition's live media playlist data on each change, instead of one Durable Object call per part
 * per rendition per isolate. A subscription is a byte stream of newline-delimited JSON messages
 * (`PlaylistPushMessage`) that the object closes after the seconds the subscriber asked for; the
 * first message is the state at subscription time. The object stays the only authority: a
 * subscriber holds copies, never decides anything, and on any doubt asks the object directly.
 */
import type { BlockingEdge } from './low-latency-playlist.ts';
import type { MasterPlaylistData, MediaPlaylistData } from './playlist-data.ts';

/** One rendition as pushed: what its playlist lists, and what blocking requests are judged on. */
export interface PushedRendition {
  playlist: MediaPlaylistData;
  edge: BlockingEdge;
}

/**
 * A message of the push. `state`: every rendition's data now (`seq` grows per sender), and whether
 * the stream's fan-out tier is engaged (isolates then subscribe and flush through their edge shard);
 * `direct`: this stream is not pushed (a DVR window's playlists are too long to send on every part),
 * ask the object for each playlist; `gone`: the stream does not exist (deleted or never created).
 */
export type PlaylistPushMessage =
  | {
      type: 'state';
      seq: number;
      renditions: Record<string, PushedRendition>;
      /** The master playlist's data (variants, status), so a subscriber answers the master too. */
      master?: MasterPlaylistData;
      fanout?: boolean;
      /** When the shard sending it heard this state (ms since epoch; shards only): wakes are timed from it. */
      heardAt?: number;
    }
  | { type: 'direct'; reason: string }
  | { type: 'gone' }
  /** An analytics-feed message (snapshot or event), as the StreamDO's own consumers get it; only to subscribers that asked (shards). */
  | { type: 'feed'; message: unknown };

/** What a StreamDO gives the push: its state for a playlist window, read when something changed. */
export type PushSource = (windowSegments: number) => PlaylistPushMessage;

/** Longest a subscription stays open (seconds); the subscriber renews before it ends. */
export const MAX_SUBSCRIPTION_SECONDS = 60;
/** A subscriber with this many messages not yet taken is cut off: it reads too slowly to be worth pushing to. */
const MAX_QUEUED_MESSAGES = 64;

interface Subscriber {
  windowSegments: number;
  /** Also gets the analytics feed (a fan-out shard carrying feed consumers). */
  feed: boolean;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  timer: ReturnType<typeof setTimeout>;
  queued: number;
}

const encoder = new TextEncoder();

/** A `feed` message line around a feed message's JSON text (embedded as is: no parse, no re-encode). */
function feedLine(text: string): string {
  return `{"type":"feed","message":${text}}\n`;
}

export class PlaylistPush {
  readonly #source: PushSource;
  readonly #subscribers = new Set<Subscriber>();
  /** The last message sent per playlist window, so an unchanged state is not sent again. */
  readonly #lastSent = new Map<number, string>();
  #scheduled = false;
  #seq = 0;

  constructor(source: PushSource) {
    this.#source = source;
  }

  /**
   * A new subscription: the state now, then every change, for `seconds` (clamped to
   * 1–MAX_SUBSCRIPTION_SECONDS). With `feed`, the analytics feed too: its current snapshot (JSON
   * text, when there is one) at once, then every feed message (`sendFeed`).
   */
  subscribe(windowSegments: number, seconds: number, feed: { snapshot: string | null } | null = null): ReadableStream<Uint8Array> {
    const { readable, writable } = new IdentityTransformStream();
    const writer = writable.getWriter();
    const lifetimeMs = Math.min(MAX_SUBSCRIPTION_SECONDS, Math.max(1, seconds)) * 1000;
    const subscriber: Subscriber = { windowSegments, feed: feed !== null, writer, timer: setTimeout(() => this.#close(subscriber), lifetimeMs), queued: 0 };
    const first = this.#source(windowSegments);
    this.#subscribers.add(subscriber);
    this.#write(subscriber, this.#line(first, this.#comparable(first)));
    if (first.type !== 'state') this.#close(subscriber);
    else if (feed?.snapshot) this.#write(subscriber, feedLine(feed.snapshot));
    return readable;
  }

  /** Sends an analytics-feed message (its JSON text) to the subscribers that carry the feed. */
  sendFeed(text: string): void {
    const line = feedLine(text);
    for (const subscriber of [...this.#subscribers]) if (subscriber.feed) this.#write(subscriber, line);
  }

  /** Subscriptions that carry the feed. */
  get feedSubscribers(): number {
    let n = 0;
    for (const s of this.#subscribers) if (s.feed) n++;
    return n;
  }

  /** Something a playlist shows may have changed: push once, after the current call's other changes. */
  changed(): void {
    if (this.#scheduled || this.#subscribers.size === 0) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pushNow();
    });
  }

  /** Subscriptions open now. */
  get size(): number {
    return this.#subscribers.size;
  }

  #pushNow(): void {
    // Read and encoded once per window, whatever the number of subscribers: the same line goes to each.
    const byWindow = new Map<number, { message: PlaylistPushMessage; line: string } | null>();
    for (const subscriber of [...this.#subscribers]) {
      let entry = byWindow.get(subscriber.windowSegments);
      if (entry === undefined) {
        const message = this.#source(subscriber.windowSegments);
        const text = this.#comparable(message);
        if (this.#lastSent.get(subscriber.windowSegments) === text) entry = null;
        else {
          this.#lastSent.set(subscriber.windowSegments, text);
          entry = { message, line: this.#line(message, text) };
        }
        byWindow.set(subscriber.windowSegments, entry);
      }
      if (!entry) continue;
      this.#write(subscriber, entry.line);
      if (entry.message.type !== 'state') this.#close(subscriber);
    }
  }

  /** A message's JSON without its sequence number: equal for equal states. */
  #comparable(message: PlaylistPushMessage): string {
    return JSON.stringify(message.type === 'state' ? { ...message, seq: undefined } : message);
  }

  /** The line sent for `message` (its `#comparable` text): a state gets the next sequence number in front. */
  #line(message: PlaylistPushMessage, text: string): string {
    return message.type === 'state' ? `{"seq":${++this.#seq},${text.slice(1)}\n` : `${text}\n`;
  }

  #write(subscriber: Subscriber, line: string): void {
    if (subscriber.queued >= MAX_QUEUED_MESSAGES) {
      this.#close(subscriber, 'subscriber too slow');
      return;
    }
    subscriber.queued++;
    subscriber.writer.write(encoder.encode(line)).then(
      () => subscriber.queued--,
      () => this.#close(subscriber),
    );
  }

  #close(subscriber: Subscriber, error?: string): void {
    if (!this.#subscribers.delete(subscriber)) return;
    clearTimeout(subscriber.timer);
    const done = error ? subscriber.writer.abort(new Error(error)) : subscriber.writer.close();
    done.catch(() => {});
    if (![...this.#subscribers].some((s) => s.windowSegments === subscriber.windowSegments)) this.#lastSent.delete(subscriber.windowSegments);
  }
}
