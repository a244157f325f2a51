/**
 * A shard's copy of the StreamDO's playlist push, passed on: one upstream subscription (to the
 * relay shard, or from a relay shard to the StreamDO), renewed while anyone downstream listens,
 * and every message it brings sent on to the downstream subscribers (`PlaylistPush`, which sends
 * each distinct state once). A shard runs in one Durable Object, so its timers and streams may be
 * shared by all the requests it serves (unlike an isolate's, see pushed-playlists.ts).
 */
import { PlaylistPush, type PlaylistPushMessage } from '../stream-do/playlist-push.ts';
import { readPush } from '../stream-do/push-reader.ts';

/** Seconds one upstream subscription is asked for, and how early the next one is opened. */
const UPSTREAM_SECONDS = 30;
const RENEW_BEFORE_MS = 5_000;
/** Wait before retrying an upstream that failed. */
const RETRY_MS = 1_000;

/** Opens an upstream subscription for `windowSegments` and `seconds`. */
export type OpenUpstream = (windowSegments: number, seconds: number) => Promise<ReadableStream<Uint8Array>>;

/** Passes each analytics-feed message (its JSON text) to the shard's own feed consumers. */
export type OnFeed = (text: string) => void;

export class PlaylistRelay {
  readonly #open: OpenUpstream;
  readonly #push: PlaylistPush;
  readonly #onFeed: OnFeed;
  /** Whether the upstream must stay open without downstream subscribers (the shard's own feed consumers). */
  readonly #hold: () => boolean;
  /** The last feed snapshot relayed (JSON text): what a new feed consumer or subscriber gets first. */
  lastSnapshot: string | null = null;
  /** The newest upstream message (the state subscribers get first). */
  #latest: PlaylistPushMessage | null = null;
  #windowSegments = 0;
  /** Id of the upstream whose messages are passed on; a newer one takes over at its first message. */
  #current = 0;
  #opened = 0;
  #renewTimer: ReturnType<typeof setTimeout> | null = null;
  #first: Promise<void> | null = null;
  /** Messages relayed, for tests and the simulation. */
  relayed = 0;

  constructor(open: OpenUpstream, opts: { onFeed?: OnFeed; hold?: () => boolean } = {}) {
    this.#open = open;
    this.#onFeed = opts.onFeed ?? (() => {});
    this.#hold = opts.hold ?? (() => false);
    this.#push = new PlaylistPush(() => this.#latest ?? { type: 'gone' });
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
          this.#latest ??= null;
          firstMessage();
          this.#scheduleRenew(RETRY_MS);
          return;
        }
        this.#scheduleRenew(UPSTREAM_SECONDS * 1000 - RENEW_BEFORE_MS);
        try {
          await readPush(stream, (message) => {
            if (message.type === 'feed') {
              // Feed messages come on every open upstream: pass on the newest upstream's only.
              if (id >= this.#current) this.#relayFeed(message.message);
            } else if (id >= this.#current) {
              this.#current = id;
              this.#latest = message.type === 'state' ? { ...message, heardAt: Date.now() } : message;
              this.relayed++;
              this.#push.changed();
            }
            firstMessage();
          });
        } catch (err) {
          console.warn('fan-out: upstream playlist subscription broke:', err);
        } finally {
          firstMessage();
          // The newest upstream ended early (the object restarted, or a `gone`/`direct` answer closed it): try again soon.
          if (id === this.#current && id === this.#opened && this.#latest?.type === 'state') this.#scheduleRenew(RETRY_MS);
        }
      })();
    });
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
        this.#latest = null;
        this.#first = null;
      }
    }, Math.max(0, ms));
  }
}
