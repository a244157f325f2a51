/**
 * This isolate's copies of its streams' live media playlist data, pushed by each StreamDO
 * (stream-do/playlist-push.ts). One subscription per stream per isolate replaces one Durable
 * Object call per part per rendition: blocked LL-HLS reloads wait here and are judged by the same
 * rules the StreamDO applies (`holdsRequested`, `tooFarAhead` over the pushed `BlockingEdge`).
 *
 * The copy is never the authority: whenever it cannot answer (no subscription could be opened, the
 * stream keeps a DVR window, it is unknown or deleted, the subscription ended under a waiting
 * request), `null` sends the caller to the StreamDO as before.
 */
import type { Context } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { waitUntil } from '../http/wait-until.ts';
import { edgeStats } from '../viewers/edge-stats.ts';
import { blockingEdgeReads, holdsRequested, renditionEdge, tooFarAhead, type BlockingRequest } from '../stream-do/low-latency-playlist.ts';
import type { MasterPlaylistData, MediaPlaylistData } from '../stream-do/playlist-data.ts';
import type { PlaylistPushMessage, PushedRendition } from '../stream-do/playlist-push.ts';
import { readPush } from '../stream-do/push-reader.ts';
import { noteDelivery, noteHeld, noteWake } from '../fanout/wake-times.ts';

/** How long one subscription is asked for: within the 30 s a Worker may keep working after its response. */
export const SUBSCRIPTION_SECONDS = 25;
/** A request this close to the subscription's end opens the next one (they overlap; the newer wins). */
const RENEW_BEFORE_MS = 5_000;
/** After a `direct` or `gone` answer (or a failed subscription), playlists of the stream are asked of the StreamDO for this long. */
const DIRECT_FOR_MS = 10_000;
/**
 * Longest a request waits for a subscription being opened to bring its first state (normally a few
 * ms). Past it the request is answered the way a copy that cannot answer is (edge shard or
 * StreamDO), and so are the stream's requests for DIRECT_FOR_MS, without waiting; then a new
 * subscription is opened. Should the late one's first state still come, it is used.
 */
export const OPEN_WAIT_MS = 3_000;
/** Most streams one isolate keeps copies of (the least recently asked for is dropped). */
const MAX_STREAMS = 256;

/**
 * Opens a subscription: from the StreamDO (`StreamDO.subscribePlaylists`), or through this
 * location's edge shard once the stream's fan-out tier is engaged (`viaShard`: as the copy's last
 * state said; undefined when the copy has had none, and the opener judges by what else it knows).
 * Resolves with the stream and the way it went.
 */
export type OpenSubscription = (seconds: number, viaShard: boolean | undefined) => Promise<{ stream: ReadableStream<Uint8Array>; viaShard: boolean }>;

/**
 * One open subscription. Its `changed` promise is made and settled only by the request that reads
 * the subscription: in a Worker a promise made in one request and settled from another is unsafe
 * (workerd cancels or misroutes its continuations once the maker is done), while any request may
 * await a promise another request makes and settles itself.
 */
class Subscription {
  changed: Promise<void>;
  #signal!: () => void;

  constructor(
    readonly id: number,
    readonly expiresAt: number,
    readonly viaShard: boolean,
  ) {
    this.changed = this.#next();
  }

  /** Wakes every request waiting on this subscription; they wait again on the current one. */
  signal(): void {
    const signal = this.#signal;
    this.changed = this.#next();
    signal();
  }

  #next(): Promise<void> {
    return new Promise((resolve) => (this.#signal = resolve));
  }
}

/** One stream's pushed state in this isolate. */
export class StreamCopy {
  readonly #clock: () => number;
  #renditions: Record<string, PushedRendition> | null = null;
  #master: MasterPlaylistData | null = null;
  /** The subscription whose messages are applied (a newer one takes over when its first state comes); null when none is open. */
  #current: Subscription | null = null;
  #opened = 0;
  #opening: Promise<boolean> | null = null;
  #directUntil = 0;
  /** The last state said the stream's fan-out tier is engaged: subscriptions and viewer flushes go through the edge shard. */
  #fanout = false;
  /** When the edge shard that sent the last state heard it (through the tier only). */
  #heardAt: number | undefined;
  /** A state came once: `#fanout` is the stream's word, not the default. */
  #known = false;

  readonly #openWaitMs: number;

  constructor(clock: () => number = Date.now, openWaitMs = OPEN_WAIT_MS) {
    this.#clock = clock;
    this.#openWaitMs = openWaitMs;
  }

  /**
   * A rendition's media playlist data, held for a blocking request (`_HLS_msn`, `_HLS_part`)
   * exactly as the StreamDO would hold it (400 at once when too far ahead, 503 after three target
   * durations); `null` when this copy cannot answer and the StreamDO must.
   */
  async mediaPlaylist(c: Context, streamId: string, rendition: string, block: BlockingRequest | undefined, open: OpenSubscription): Promise<MediaPlaylistData | null> {
    if (!(await this.#ready(c, open))) return null;
    const now = this.#renditions?.[rendition];
    if (!now) throw new EdgeliveError('not_found', `stream ${streamId} has no rendition ${rendition}`);
    if (!block) return now.playlist;
    if (answers(now, rendition, block)) {
      noteHeld('at once');
      return now.playlist;
    }
    const reads = blockingEdgeReads(now.edge);
    const refusal = tooFarAhead(renditionEdge(reads, reads, rendition), block, now.playlist.lowLatency!.partTarget);
    if (refusal) throw new EdgeliveError('bad_request', refusal);
    const timeoutMs = 3 * now.playlist.targetDuration * 1000;
    const latest = await this.#wait(rendition, block, timeoutMs);
    if (latest === 'timeout') {
      noteHeld('timeout');
      throw new EdgeliveError('stream_not_ready', `_HLS_msn=${block.msn}${block.part === undefined ? '' : ` _HLS_part=${block.part}`} not made within ${timeoutMs} ms`);
    }
    if (latest === null) {
      noteHeld('stopped');
      return null;
    }
    if (this.#heardAt === undefined) noteHeld('woken direct');
    else {
      noteWake(this.#clock() - this.#heardAt);
      noteHeld('woken via shard');
    }
    return latest.playlist;
  }

  /** The master playlist's data as last pushed; `null` when this copy cannot answer and the StreamDO must. */
  async masterPlaylist(c: Context, open: OpenSubscription): Promise<MasterPlaylistData | null> {
    if (!(await this.#ready(c, open))) return null;
    return this.#master;
  }

  /** The rendition once it answers `block`; null if the copy stops (no subscription open, rendition gone); `timeout` after `timeoutMs`. */
  async #wait(rendition: string, block: BlockingRequest, timeoutMs: number): Promise<PushedRendition | null | 'timeout'> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      for (;;) {
        const current = this.#current;
        const latest = this.#renditions?.[rendition];
        if (!current || !latest) return null;
        if (answers(latest, rendition, block)) return latest;
        if ((await Promise.race([current.changed, timeout])) === 'timeout') return 'timeout';
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** The master data of the open subscription's last state, without opening one; null when none is open. */
  get liveMaster(): MasterPlaylistData | null {
    return this.#current !== null && this.#clock() >= this.#directUntil ? this.#master : null;
  }

  /** Whether the stream's fan-out tier is engaged, as its last pushed state said. */
  get fanout(): boolean {
    return this.#fanout;
  }

  /** A subscription that delivered state is open. */
  get live(): boolean {
    return this.#current !== null;
  }

  /** Whether this copy can answer now, opening or renewing the subscription as needed. */
  async #ready(c: Context, open: OpenSubscription): Promise<boolean> {
    const now = this.#clock();
    if (now < this.#directUntil) return false;
    // Renewed near its end, or at once when the tier engaged or disengaged (the old one answers until the new one's first state).
    if (this.#current && this.#current.expiresAt - now > RENEW_BEFORE_MS && this.#current.viaShard === this.#fanout) return true;
    if (!this.#opening) {
      const opening: Promise<boolean> = this.#subscribe(c, open).finally(() => {
        if (this.#opening === opening) this.#opening = null;
      });
      this.#opening = opening;
    }
    return this.#current !== null || this.#waitOpening(this.#opening);
  }

  /** The opening's word, or false once this request has waited OPEN_WAIT_MS (its timer is this request's own). */
  async #waitOpening(opening: Promise<boolean>): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => (timer = setTimeout(() => resolve('gave up'), this.#openWaitMs)));
    try {
      const usable = await Promise.race([opening, gaveUp]);
      if (usable !== 'gave up') return usable;
      if (this.#opening === opening) {
        // The first of the requests that gave up on this opening: the next ones go upstream at once for a while, then open anew.
        this.#opening = null;
        this.#directUntil = this.#clock() + DIRECT_FOR_MS;
        console.warn(`playlist subscription: no first state within ${this.#openWaitMs} ms; playlists asked upstream for ${DIRECT_FOR_MS} ms`);
      }
      return false;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Opens a subscription; resolves once its first message says whether the stream is pushed. */
  async #subscribe(c: Context, open: OpenSubscription): Promise<boolean> {
    const id = ++this.#opened;
    const expiresAt = this.#clock() + SUBSCRIPTION_SECONDS * 1000;
    let stream: ReadableStream<Uint8Array>;
    let viaShard: boolean;
    try {
      ({ stream, viaShard } = await open(SUBSCRIPTION_SECONDS, this.#known ? this.#fanout : undefined));
      if (viaShard) edgeStats.shardCalls++;
      else edgeStats.doCalls++;
    } catch (err) {
      console.warn('playlist subscription could not be opened:', err);
      this.#directUntil = this.#clock() + DIRECT_FOR_MS;
      return false;
    }
    const subscription = new Subscription(id, expiresAt, viaShard);
    let first!: (usable: boolean) => void;
    const firstMessage = new Promise<boolean>((resolve) => (first = resolve));
    const read = async () => {
      try {
        await readPush(
          stream,
          (message) => first(this.#apply(subscription, message)),
          () => {
            // A newer subscription took over: stop this one, so the sender stops pushing to it.
            if (this.#current !== null && this.#current.id > subscription.id) return true;
            // The tier engaged or disengaged: move now (from this request, which owns the subscription), not at the next viewer request.
            if (this.#current === subscription && subscription.viaShard !== this.#fanout) void this.#ready(c, open);
            return false;
          },
        );
      } finally {
        first(false);
        if (this.#current === subscription) this.#current = null;
        subscription.signal(); // its waiters ask the StreamDO (or wait on a newer subscription)
      }
    };
    waitUntil(c, read(), 'playlist subscription');
    return firstMessage;
  }

  /** Applies a message of `subscription`; returns whether the stream is pushed. */
  #apply(subscription: Subscription, message: PlaylistPushMessage): boolean {
    if (message.type === 'feed') return true; // only shards ask for the feed
    const older = this.#current !== null && subscription.id < this.#current.id;
    if (!older) {
      if (message.type === 'state') {
        // A change on the open subscription (not the state a new one starts with): how long it took from the edge shard.
        if (message.heardAt !== undefined && this.#current === subscription) noteDelivery(this.#clock() - message.heardAt);
        this.#renditions = message.renditions;
        this.#master = message.master ?? null;
        this.#current = subscription;
        this.#fanout = message.fanout === true;
        this.#known = true;
        this.#heardAt = message.heardAt;
      } else {
        this.#renditions = null;
        this.#master = null;
        this.#current = null;
        this.#directUntil = this.#clock() + DIRECT_FOR_MS;
      }
    }
    // Every subscription wakes its own waiters (an older one's waiters then wait on the newer one).
    subscription.signal();
    return message.type === 'state';
  }
}

/** One isolate's copies, by stream (the least recently asked for is dropped past MAX_STREAMS). */
export class StreamCopies {
  readonly #copies = new Map<string, StreamCopy>();

  /** The copy of `streamId`, made on first use. */
  of(streamId: string): StreamCopy {
    let copy = this.#copies.get(streamId);
    if (copy) this.#copies.delete(streamId);
    else if (this.#copies.size >= MAX_STREAMS) this.#copies.delete(this.#copies.keys().next().value!);
    copy ??= new StreamCopy();
    this.#copies.set(streamId, copy); // most recently asked for last
    return copy;
  }

  /** Whether this isolate holds a live pushed copy of the stream (a subscription that delivered state is open, not `direct`). */
  live(streamId: string): boolean {
    return this.liveMaster(streamId) !== null;
  }

  /** The master data of the stream's open subscription (kept current by its pushes), or null: never opens one. */
  liveMaster(streamId: string): MasterPlaylistData | null {
    return this.#copies.get(streamId)?.liveMaster ?? null;
  }

  /** Whether the stream's fan-out tier is engaged, as the live pushed copy says; undefined without one. */
  fanout(streamId: string): boolean | undefined {
    const copy = this.#copies.get(streamId);
    return copy?.live ? copy.fanout : undefined;
  }
}

/** Whether a blocking request is answered by `playlist` (ended streams and streams without LL-HLS ignore the directives). */
function answers(r: PushedRendition, rendition: string, block: BlockingRequest): boolean {
  if (r.playlist.status === 'ended' || !r.playlist.lowLatency) return true;
  const reads = blockingEdgeReads(r.edge);
  return holdsRequested(reads, reads, rendition, block);
}

