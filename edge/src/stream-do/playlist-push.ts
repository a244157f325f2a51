/**
 * The StreamDO's playlist push: isolates (and, later, fan-out shards) subscribe once and get every
 * rendition's live media playlist data on each change, instead of one Durable Object call per part
 * per rendition per isolate. A subscription is a byte stream of newline-delimited JSON messages
 * (`PlaylistPushMessage`) that the object closes after the seconds the subscriber asked for; the
 * first message is the state at subscription time, each later one the change from the one before
 * (`PushDelta`, push-patch.ts: a part adds a few list entries to a state of tens of KB, and every
 * subscriber parses what it is sent). The object stays the only authority: a subscriber holds
 * copies, never decides anything, and on any doubt asks the object directly.
 */
import type { BlockingEdge } from './low-latency-playlist.ts';
import type { MasterPlaylistData, MediaPlaylistData } from './playlist-data.ts';
import { diff, jsonEqual, type Patch } from './push-patch.ts';

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

/**
 * What goes on the wire besides whole messages: the state numbered `seq` is the one numbered `base`
 * (the last state sent on this subscription) with `patch` applied, heard by the edge shard sending
 * it at `heardAt`. Readers turn it back into a `state` message (push-reader.ts); nobody else sees
 * it. Its line starts `{"type":"delta","seq":S,"base":B,` (`deltaLine`), so that a shard reads
 * which change it is without parsing the patch (`deltaHeader`) and passes it on as it came.
 */
export interface PushDelta {
  type: 'delta';
  seq: number;
  base: number;
  patch: Patch;
  heardAt?: number;
}

/** A change's line (without its newline): the header first, as `deltaHeader` reads it. */
export function deltaLine(seq: number, base: number, patch: Patch, heardAt?: number): string {
  const delta: PushDelta = { type: 'delta', seq, base, patch, ...(heardAt === undefined ? {} : { heardAt }) };
  return JSON.stringify(delta);
}

const DELTA_HEADER = /^\{"type":"delta","seq":(\d+),"base":(\d+),/;

/** Which change a line is (its number and the state it is made from), or null when it is not a change. */
export function deltaHeader(line: string): { seq: number; base: number } | null {
  const m = DELTA_HEADER.exec(line);
  return m ? { seq: Number(m[1]), base: Number(m[2]) } : null;
}

/** A change's line with the time an edge shard heard it added (the line came from upstream without one). */
export function stampHeard(line: string, heardAt: number): string {
  return `${line.slice(0, -1)},"heardAt":${heardAt}}`;
}

/**
 * What a StreamDO gives the push: its state for a playlist window, read when something changed. The
 * push keeps it to diff the next one against, so the source must not change it afterwards.
 */
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

/** The last message sent to a playlist window's subscribers, and its number. */
interface Sent {
  seq: number;
  /** The message; null for a change passed on (`passOn`) until someone needs it whole, from `state`. */
  message: PlaylistPushMessage | null;
  state?: () => PlaylistPushMessage;
  /** Its whole line, encoded when a subscriber first needs it (then shared by every new subscriber). */
  bytes: Uint8Array | null;
}

/** A sent message, whole. */
function whole(sent: Sent): PlaylistPushMessage {
  sent.message ??= sent.state!();
  return sent.message;
}

const encoder = new TextEncoder();

/** A `feed` message line around a feed message's JSON text (embedded as is: no parse, no re-encode). */
function feedLine(text: string): string {
  return `{"type":"feed","message":${text}}\n`;
}

/** A state without its number and hearing time, to compare and diff states by content. */
function unnumbered(message: PlaylistPushMessage): unknown {
  return message.type === 'state' ? { ...message, seq: undefined, heardAt: undefined } : message;
}

export class PlaylistPush {
  readonly #source: PushSource;
  readonly #subscribers = new Set<Subscriber>();
  /** The last message sent per playlist window: an unchanged state is not sent again, a changed one is sent as the change. */
  readonly #lastSent = new Map<number, Sent>();
  /** States keep the number their source gave them (a shard passing on its upstream's changes: `passOn`). */
  readonly #keepSeq: boolean;
  #scheduled = false;
  #seq = 0;

  constructor(source: PushSource, opts: { keepSeq?: boolean } = {}) {
    this.#source = source;
    this.#keepSeq = opts.keepSeq ?? false;
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
    // The window's subscribers get any change first, so the state the new one starts from is the one the next change is made from.
    this.#advance(windowSegments);
    // A `gone` or `direct` just closed the window's other subscribers, and the window was forgotten with them.
    if (!this.#lastSent.has(windowSegments)) this.#advance(windowSegments);
    const first = this.#lastSent.get(windowSegments)!;
    this.#subscribers.add(subscriber);
    this.#write(subscriber, this.#wholeLine(first));
    if (whole(first).type !== 'state') this.#close(subscriber);
    else if (feed?.snapshot) this.#write(subscriber, encoder.encode(feedLine(feed.snapshot)));
    return readable;
  }

  /** Sends an analytics-feed message (its JSON text) to the subscribers that carry the feed. */
  sendFeed(text: string): void {
    const line = encoder.encode(feedLine(text));
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
      if (!this.#scheduled) return; // pushed already (passOn)
      this.#scheduled = false;
      this.#pushNow();
    });
  }

  /**
   * Passes on a change made upstream, as it came (a shard): `line`, the encoded change numbered
   * `seq` from the state numbered `base`, goes to the subscribers of every window whose last state
   * sent is `base`, without reading it; `state` gives the state it makes when someone needs it
   * whole (a new subscriber, a later diff). Other windows get the change the usual way. Needs
   * `keepSeq`, so the numbers sent are the upstream's and its next change chains on.
   */
  passOn(base: number, seq: number, line: Uint8Array, state: () => PlaylistPushMessage): void {
    // A change the source announced (`changed`: a new upstream's first state) is sent first, so the
    // number checked below is that of the state subscribers hold, whatever its upstream numbered it.
    if (this.#scheduled) {
      this.#scheduled = false;
      this.#pushNow();
    }
    for (const [windowSegments, sent] of this.#lastSent) {
      if (sent.seq !== base || (sent.message !== null && sent.message.type !== 'state')) {
        this.#advance(windowSegments);
        continue;
      }
      this.#lastSent.set(windowSegments, { seq, message: null, state, bytes: null });
      for (const subscriber of [...this.#subscribers]) if (subscriber.windowSegments === windowSegments) this.#write(subscriber, line);
    }
  }

  /** Subscriptions open now. */
  get size(): number {
    return this.#subscribers.size;
  }

  #pushNow(): void {
    for (const windowSegments of new Set([...this.#subscribers].map((s) => s.windowSegments))) this.#advance(windowSegments);
  }

  /**
   * Reads the window's state (once, whatever the number of subscribers) and, when it changed since
   * the last one sent, sends the window's subscribers the change (a whole message when either is
   * not a state), encoded once for all of them.
   */
  #advance(windowSegments: number): void {
    const message = this.#source(windowSegments);
    const last = this.#lastSent.get(windowSegments);
    const before = last ? whole(last) : null;
    let bytes: Uint8Array;
    if (last && before?.type === 'state' && message.type === 'state') {
      const patch = diff(unnumbered(before), unnumbered(message));
      if (!patch) return;
      const seq = this.#number(message);
      this.#lastSent.set(windowSegments, { seq, message, bytes: null });
      bytes = encoder.encode(`${deltaLine(seq, last.seq, patch, message.heardAt)}\n`);
    } else {
      if (before && jsonEqual(unnumbered(before), unnumbered(message))) return;
      const sent: Sent = { seq: this.#number(message), message, bytes: null };
      this.#lastSent.set(windowSegments, sent);
      bytes = this.#wholeLine(sent);
    }
    for (const subscriber of [...this.#subscribers]) {
      if (subscriber.windowSegments !== windowSegments) continue;
      this.#write(subscriber, bytes);
      if (message.type !== 'state') this.#close(subscriber);
    }
  }

  /** The number a message to send gets: its own with `keepSeq`, else the next of this push. */
  #number(message: PlaylistPushMessage): number {
    return this.#keepSeq && message.type === 'state' ? message.seq : ++this.#seq;
  }

  /** The whole message line of `sent` (a state with its number), encoded. */
  #wholeLine(sent: Sent): Uint8Array {
    const message = whole(sent);
    sent.bytes ??= encoder.encode(`${JSON.stringify(message.type === 'state' ? { ...message, seq: sent.seq } : message)}\n`);
    return sent.bytes;
  }

  #write(subscriber: Subscriber, bytes: Uint8Array): void {
    if (subscriber.queued >= MAX_QUEUED_MESSAGES) {
      this.#close(subscriber, 'subscriber too slow');
      return;
    }
    subscriber.queued++;
    subscriber.writer.write(bytes).then(
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
