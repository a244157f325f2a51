/**
 * A shard's copy of the StreamDO's playlist push, passed on: one upstream subscription (to the
 * relay shard, or from a relay shard to the StreamDO), renewed while anyone downstream listens,
 * and every message it brings sent on to the downstream subscribers (`PlaylistPush`). A change
 * (most lines: one per part) is passed on as it came, read only as far as its header, and applied
 * to the shard's copy only when someone needs the state whole (lazy-state.ts); an edge shard adds
 * when it heard it. A whole message (the first of an upstream, `gone`, `direct`) is parsed and sent
 * on as the change from what subscribers have. A shard runs in one Durable Object, so its timers
 * and streams may be shared by all the requests it serves (unlike an isolate's, see
 * pushed-playlists.ts).
 */
import { deltaHeader, PlaylistPush, stampHeard, type PlaylistPushMessage } from '../stream-do/playlist-push.ts';
import { readPushLines } from '../stream-do/push-reader.ts';
import { LazyState } from './lazy-state.ts';

/** Seconds one upstream subscription is asked for, and how early the next one is opened. */
const UPSTREAM_SECONDS = 30;
const RENEW_BEFORE_MS = 5_000;
/** Wait before retrying an upstream that failed. */
const RETRY_MS = 1_000;

/** Opens an upstream subscription for `windowSegments` and `seconds`. */
export type OpenUpstream = (windowSegments: number, seconds: number) => Promise<ReadableStream<Uint8Array>>;

/** Passes each analytics-feed message (its JSON text) to the shard's own feed consumers. */
export type OnFeed = (text: string) => void;

const encoder = new TextEncoder();

export class PlaylistRelay {
  readonly #open: OpenUpstream;
  readonly #push: PlaylistPush;
  readonly #onFeed: OnFeed;
  /** Whether the upstream must stay open without downstream subscribers (the shard's own feed consumers). */
  readonly #hold: () => boolean;
  /** Stamp each state with when this shard heard it (an edge shard: wakes are timed from it). */
  readonly #stamp: boolean;
  /** The last feed snapshot relayed (JSON text): what a new feed consumer or subscriber gets first. */
  lastSnapshot: string | null = null;
  /** The newest upstream state (what subscribers get first), or null with `#latest` then the newest other message. */
  #state: LazyState | null = null;
  #latest: PlaylistPushMessage | null = null;
  #windowSegments = 0;
  /** Id of the upstream whose messages are passed on; a newer one takes over at its first message. */
  #current = 0;
  #opened = 0;
  #renewTimer: ReturnType<typeof setTimeout> | null = null;
  #first: Promise<void> | null = null;
  /** Messages relayed, and changes of them applied to this shard's copy (the rest were only passed on), for tests and the simulation. */
  relayed = 0;
  applied = 0;

  constructor(open: OpenUpstream, opts: { onFeed?: OnFeed; hold?: () => boolean; stamp?: boolean } = {}) {
    this.#open = open;
    this.#onFeed = opts.onFeed ?? (() => {});
    this.#hold = opts.hold ?? (() => false);
    this.#stamp = opts.stamp ?? false;
    this.#push = new PlaylistPush(() => this.#state?.state() ?? this.#latest ?? { type: 'gone' }, { keepSeq: true });
  }

  /** Keeps an upstream open for the shard's own feed consumers (none needed for the playlists). */
  async ensureUpstream(windowSegments: number): Promise<void> {
    if (this.#windowSegments === 0) this.#windowSegments = windowSegments;
    this.#first ??= this.#openUpstream();
    await this.#first;
  }

  /** A downstream subscription: the latest state once upstream has answered, then every change (and the feed, for a shard). */
  async subscribe(windowSegments: number, seconds: number, feed = false): Promise<ReadableStream<Uint8Array>> {
    if (this.#windowSegments !== windowSegments) {
      // One window per stream in practice (PLAYLIST_WINDOW_SEGMENTS); a different one starts over.
      this.#windowSegments = windowSegments;
      this.#state = null;
      this.#latest = null;
      this.#first = null;
    }
    this.#first ??= this.#openUpstream();
    await this.#first;
    return this.#push.subscribe(windowSegments, seconds, feed ? { snapshot: this.lastSnapshot } : null);
  }

  /** Downstream subscriptions open now. */
  get subscribers(): number {
    return this.#push.size;
  }

  /** Opens an upstream; resolves at its first message (or its failure). */
  #openUpstream(): Promise<void> {
    const id = ++this.#opened;
    return new Promise<void>((firstMessage) => {
      void (async () => {
        let stream: ReadableStream<Uint8Array>;
        try {
          stream = await this.#open(this.#windowSegments, UPSTREAM_SECONDS);
        } catch (err) {
          console.warn('fan-out: upstream playlist subscription failed:', err);
          firstMessage();
          this.#scheduleRenew(RETRY_MS);
          return;
        }
        this.#scheduleRenew(UPSTREAM_SECONDS * 1000 - RENEW_BEFORE_MS);
        try {
          await readPushLines(stream, (line) => {
            this.#take(id, line);
            firstMessage();
          });
        } catch (err) {
          console.warn('fan-out: upstream playlist subscription broke:', err);
        } finally {
          firstMessage();
          // The newest upstream ended early (the object restarted, or a `gone`/`direct` answer closed it): try again soon.
          if (id === this.#current && id === this.#opened && this.#state) this.#scheduleRenew(RETRY_MS);
        }
      })();
    });
  }

  /**
   * One line of upstream `id`. A change of the current upstream is passed on unparsed; an older
   * upstream's changes are dropped (its first state came before the current one's); a whole message
   * of an upstream at least as new makes it the current one. A change made from another state than
   * the copy's newest throws (a broken stream: the upstream is read no further and opened again).
   */
  #take(id: number, line: string): void {
    const header = deltaHeader(line);
    if (header) {
      // Dropped: an older upstream's change, or one that comes after the copy was forgotten (nobody
      // listened, or the playlist window changed): the next subscriber opens a new upstream.
      if (id !== this.#current || !this.#state) return;
      const heardAt = this.#stamp ? Date.now() : undefined;
      const state = this.#state;
      state.add(header.seq, header.base, line, heardAt);
      this.relayed++;
      this.#push.passOn(header.base, header.seq, encoder.encode(`${heardAt === undefined ? line : stampHeard(line, heardAt)}\n`), () => state.state());
      return;
    }
    const message = JSON.parse(line) as PlaylistPushMessage;
    if (message.type === 'feed') {
      // Feed messages come on every open upstream: pass on the newest upstream's only.
      if (id >= this.#current) this.#relayFeed(message.message);
      return;
    }
    if (id < this.#current) return;
    this.#current = id;
    this.#state = message.type === 'state' ? new LazyState(message, this.#stamp ? Date.now() : undefined, (changes) => (this.applied += changes)) : null;
    this.#latest = message.type === 'state' ? null : message;
    this.relayed++;
    this.#push.changed();
  }

  #relayFeed(message: unknown): void {
    const text = JSON.stringify(message);
    if ((message as { type?: unknown }).type === 'snapshot') this.lastSnapshot = text;
    this.#push.sendFeed(text);
    this.#onFeed(text);
  }

  /** Opens the next upstream after `ms`, if anyone still listens then. */
  #scheduleRenew(ms: number): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = setTimeout(() => {
      this.#renewTimer = null;
      if (this.#push.size > 0 || this.#hold()) void this.#openUpstream();
      else {
        // Nobody listens: forget the copy; the next subscriber starts a fresh upstream.
        this.#state = null;
        this.#latest = null;
        this.#first = null;
      }
    }, Math.max(0, ms));
  }
}
