import { feedMessageSchema, type EventMessage, type FeedMessage, type SnapshotMessage } from './feed-messages.ts';

/** The part of a WebSocket the client uses; browsers' and Node's global WebSocket both fit. */
export interface FeedSocket {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor, passed in so the client runs in browsers, Node and workerd alike. */
export type FeedSocketConstructor = new (url: string) => FeedSocket;

/** What the client reports, by event name. */
export interface FeedClientEvents {
  open: () => void;
  snapshot: (message: SnapshotMessage) => void;
  event: (message: EventMessage) => void;
  /** A message that is not valid feed JSON; the connection stays open. */
  invalid: (raw: string, reason: string) => void;
  close: (code: number, reason: string) => void;
}

/** Options of a FeedClient. */
export interface FeedClientOptions {
  /** `ws(s)://<edge>/v1/streams/<id>/events?token=<feed token>` (as returned by POST …/feed-tokens). */
  url: string;
  WebSocket: FeedSocketConstructor;
  /** Reconnect this long after an unexpected close, asking for the events missed (`since`); 0 = never. */
  reconnectDelayMs?: number;
}

type Listeners = { [K in keyof FeedClientEvents]: Set<FeedClientEvents[K]> };

/**
 * A typed analytics-feed consumer: connects, validates every message with the feed's zod schema
 * and emits `snapshot` / `event`. With `reconnectDelayMs`, it reconnects after a drop with
 * `since=<last event seq>` so no stream event is lost.
 */
export class FeedClient {
  readonly #options: FeedClientOptions;
  readonly #listeners: Listeners = { open: new Set(), snapshot: new Set(), event: new Set(), invalid: new Set(), close: new Set() };
  #socket: FeedSocket | null = null;
  #state: 'idle' | 'connecting' | 'open' | 'closed' = 'idle';
  #lastEventSeq: number | null = null;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: FeedClientOptions) {
    this.#options = options;
  }

  /** The seq of the last stream event received (the log's seq), or null. */
  get lastEventSeq(): number | null {
    return this.#lastEventSeq;
  }

  /** Subscribes to one kind of report; returns the unsubscribe function. */
  on<K extends keyof FeedClientEvents>(name: K, listener: FeedClientEvents[K]): () => void {
    (this.#listeners[name] as Set<FeedClientEvents[K]>).add(listener);
    return () => (this.#listeners[name] as Set<FeedClientEvents[K]>).delete(listener);
  }

  /** Opens the connection. */
  start(): void {
    if (this.#state === 'connecting' || this.#state === 'open') return;
    this.#connect();
  }

  /** Closes for good (no reconnect). */
  close(reason = 'client closed'): void {
    this.#state = 'closed';
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#socket?.close(1000, reason);
    this.#socket = null;
  }

  #connect(): void {
    this.#state = 'connecting';
    const url = new URL(this.#options.url);
    if (this.#lastEventSeq !== null) url.searchParams.set('since', String(this.#lastEventSeq));
    const socket = new this.#options.WebSocket(url.toString());
    this.#socket = socket;
    socket.onopen = () => {
      this.#state = 'open';
      this.#emit('open');
    };
    socket.onmessage = (ev) => this.#receive(ev.data);
    socket.onerror = () => undefined; // a close always follows; that is where it is handled
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      const wanted = this.#state === 'closed';
      this.#emit('close', ev.code, ev.reason);
      const delay = this.#options.reconnectDelayMs ?? 0;
      if (!wanted && delay > 0) {
        this.#state = 'connecting';
        this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
      } else {
        this.#state = 'closed';
      }
    };
  }

  #receive(data: unknown): void {
    const raw = typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer);
    let message: FeedMessage;
    try {
      const parsed = feedMessageSchema.safeParse(JSON.parse(raw));
      if (!parsed.success) return this.#emit('invalid', raw, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      message = parsed.data;
    } catch {
      return this.#emit('invalid', raw, 'not JSON');
    }
    if (message.type === 'snapshot') return this.#emit('snapshot', message);
    this.#lastEventSeq = Math.max(this.#lastEventSeq ?? 0, message.event.seq);
    this.#emit('event', message);
  }

  #emit<K extends keyof FeedClientEvents>(name: K, ...args: Parameters<FeedClientEvents[K]>): void {
    for (const listener of this.#listeners[name]) {
      try {
        (listener as (...a: Parameters<FeedClientEvents[K]>) => void)(...args);
      } catch (err) {
        console.error(`FeedClient ${name} listener failed:`, err);
      }
    }
  }
}
