/**
 * A fan-out shard of one popular stream (issue 14): an edge shard per location or a relay shard
 * (shard-names.ts). It holds copies the StreamDO pushed and batches it merged, never decides any
 * state: the playlist push is passed on (playlist-relay.ts); an edge shard merges its isolates'
 * viewer batches and sends them to its home relay once a second (viewer-relay.ts); a relay shard
 * counts its partition of the sessions exactly as batches come (partition-counter.ts), passes the
 * other relays theirs (relay-sessions.ts, session-exchange.ts), and reports counts, new sessions
 * and beacon sums to the StreamDO every RELAY_REPORT_MS. Nothing is stored: a shard that restarts
 * opens its upstream again at the next subscription and counts again from the next polls (within
 * one viewer window).
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import { emptyQoe, type SessionSeen } from '../viewers/viewer-batch.ts';
import { packSessions, type PackedSessions, type PackedViewerBatch } from '../viewers/packed-batch.ts';
import { PartitionCounter } from './partition-counter.ts';
import { parseFanoutSettings, type FanoutSettings } from './fanout-settings.ts';
import { parseSettings } from '../settings.ts';
import { MAX_SOCKETS_PER_FEED_TOKEN } from '../stream-do/stream-feed.ts';
import { PlaylistRelay } from './playlist-relay.ts';
import { relayIndex, relayShardName, shardRole, type ShardRole } from './shard-names.ts';
import { ViewerRelay } from './viewer-relay.ts';
import { RELAY_REPORT_MS, exchangeSource, isExchangeSource } from './session-exchange.ts';
import { RelaySessions } from './relay-sessions.ts';
import { SharedRenders } from './shared-renders.ts';
import { shardStub } from './shard-stub.ts';
import type { DoResult } from '../stream-do/do-result.ts';
import type { BlockingRequest } from '../stream-do/low-latency-playlist.ts';
import type { MediaPlaylistData } from '../stream-do/playlist-data.ts';

/**
 * An edge shard passes a session on again after this long on the same rendition. A session's age
 * when its relay counts it is then at most the poll interval plus the isolate's and the edge
 * shard's second, the exchange's EXCHANGE_MS and the relay's RELAY_REPORT_MS: 5 s for a player that
 * polls every 2 s, inside the 6 s viewer window (2 s here let a session be passed on only every
 * other poll, and the relays' counts dip as whole rounds aged out).
 */
const SESSION_REFRESH_MS = 1000;

/** What a relay's ViewerRelay gets of a batch besides its beacon sums: the relay counted the sessions already. */
const NO_SESSIONS = packSessions([]);

/**
 * How long a shard reuses a playlist the push does not carry (a DVR window's): an edge shard half a
 * second, a relay a second, so an answer is at most 1.5 s older than the StreamDO's at a viewer's
 * isolate, and the StreamDO renders each form of each such playlist at most once a second per relay.
 */
const EDGE_RENDER_REUSE_MS = 500;
const RELAY_RENDER_REUSE_MS = 1000;

/** Calls a shard answered, by method (the scale simulation reads them). */
export interface ShardCalls {
  subscribePlaylists: number;
  recordViewers: number;
  mediaPlaylist: number;
}

export class StreamShard extends DurableObject<Env> {
  #role: ShardRole | null = null;
  #playlists: PlaylistRelay | null = null;
  #viewers: ViewerRelay | null = null;
  /** A relay shard's way with the sessions it is sent: its partition counted, the others exchanged (made with the role). */
  #relaySessions: RelaySessions | null = null;
  /** The fan-out settings, read at first use (the env does not change while the object lives; every viewer batch needs them). */
  #fanoutSettings: FanoutSettings | null = null;
  /** A relay shard's partition of the sessions. */
  readonly #counter = new PartitionCounter();
  /** The viewer window and forget horizon the StreamDO last told this relay. */
  #window = { windowMs: 6000, forgetMs: 600_000 };
  /** Whether the stream's tier is engaged, as the last answer from upstream said (it is, when callers come). */
  #engaged = true;
  readonly calls: ShardCalls = { subscribePlaylists: 0, recordViewers: 0, mediaPlaylist: 0 };
  /** Playlists the push does not carry, shared among this shard's callers (made with the role). */
  #renders: SharedRenders<DoResult<MediaPlaylistData>> | null = null;

  /** The stream's playlist push, passed on (the first message once upstream answered); with `feed` (an edge shard asking its relay), the analytics feed too. */
  async subscribePlaylists(name: string, windowSegments: number, seconds: number, feed = false): Promise<ReadableStream<Uint8Array>> {
    this.calls.subscribePlaylists++;
    return this.#relays(name).playlists.subscribe(windowSegments, seconds, feed);
  }

  /**
   * A media playlist the push does not carry (a DVR window's), for an isolate (edge shard) or an
   * edge shard (relay): one call upstream for all who ask the same at once, its answer reused a
   * moment (`SharedRenders`); a relay asks the StreamDO, which stays the only one rendering from state.
   */
  async mediaPlaylist(name: string, rendition: string, windowSegments: number, block?: BlockingRequest): Promise<DoResult<MediaPlaylistData>> {
    this.calls.mediaPlaylist++;
    this.#relays(name);
    const role = this.#role!;
    const key = `${rendition}/${windowSegments}/${block ? `${block.msn}.${block.part ?? ''}` : ''}`;
    return this.#renders!.get(
      key,
      () => {
        if (role.kind === 'relay') return streamStub(this.env, role.streamId).mediaPlaylist(rendition, windowSegments, block);
        const relay = this.#relayOf(role);
        return relay.stub.mediaPlaylist(relay.name, rendition, windowSegments, block);
      },
      (answer) => answer.ok,
    );
  }

  /**
   * An analytics-feed consumer the Worker authenticated and sent here (an edge shard, once the
   * stream's tier is engaged): a hibernatable socket that gets the last feed snapshot at once, the
   * events after `?since=` from the StreamDO's log, then every feed message the StreamDO sends. Sockets
   * per feed token are capped here, per shard.
   */
  override async fetch(request: Request): Promise<Response> {
    const name = request.headers.get('x-edgelive-shard') ?? '';
    const relays = this.#relays(name);
    const role = this.#role!;
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return Response.json({ error: { code: 'bad_request', message: 'expected a WebSocket upgrade' } }, { status: 426 });
    const tokenId = request.headers.get('x-edgelive-feed-token-id');
    if (tokenId !== null) {
      const open = this.ctx.getWebSockets().filter((ws) => (ws.deserializeAttachment() as { tokenId?: string } | null)?.tokenId === tokenId).length;
      if (open >= MAX_SOCKETS_PER_FEED_TOKEN) return Response.json({ error: { code: 'rate_limited', message: `this feed token already has ${open} open sockets (at most ${MAX_SOCKETS_PER_FEED_TOKEN})` } }, { status: 429 });
    }
    await relays.playlists.ensureUpstream(parseSettings(this.env).playlistWindowSegments);
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ streamId: role.streamId, connectedAt: Date.now(), auth: request.headers.get('x-edgelive-feed-auth') ?? 'unknown', ...(tokenId !== null ? { tokenId } : {}) });
    if (relays.playlists.lastSnapshot) this.#send(server, relays.playlists.lastSnapshot);
    const since = new URL(request.url).searchParams.get('since');
    if (since !== null) for (const text of await streamStub(this.env, role.streamId).feedReplay(Number(since))) this.#send(server, text);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Feed consumers are read-only; anything but the auto-answered `ping` is ignored. */
  override webSocketMessage(): void {}

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  #send(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
    } catch {
      try {
        ws.close(1011, 'send failed');
      } catch {
        // already closed
      }
    }
  }

  /** A viewer batch from an isolate (`isolates` = 1) or an edge shard (the isolates it serves). */
  recordViewers(name: string, source: string, isolates: number, packed: PackedViewerBatch): { fanout: boolean } {
    this.calls.recordViewers++;
    const relays = this.#relays(name);
    const role = this.#role!;
    if (role.kind === 'relay') {
      // A relay counts its partition of the sessions as they come (an exchange batch is all its own)
      // and passes the rest on; what it reports once per RELAY_REPORT_MS are the counts and the beacon sums.
      this.#relaySessions!.take(packed.sessions, isExchangeSource(source));
      relays.viewers.add(source, isolates, { sessions: NO_SESSIONS, qoe: packed.qoe }, Date.now());
    } else relays.viewers.add(source, isolates, packed, Date.now());
    // Whether the tier is still engaged, as the StreamDO last answered upstream: an isolate with no
    // pushed copy of the stream (a DVR window) learns here when to flush to the StreamDO again.
    return { fanout: this.#engaged };
  }

  /** A relay shard takes the sessions the StreamDO counted before the tier engaged (its partition of them). */
  handOver(name: string, sessions: SessionSeen[]): void {
    this.#relays(name);
    this.#counter.handOver(sessions);
  }

  /** A relay shard gives its sessions seen since `since` back to the StreamDO (the tier disengages). */
  takeSessions(name: string, since: number): SessionSeen[] {
    this.#relays(name);
    return this.#counter.liveSessions(since);
  }

  /** Calls answered and what the shard holds now (the scale simulation; tests). */
  stats(): { calls: ShardCalls; subscribers: number; relayed: number; applied: number; batchesSent: number; exchanged: number; sessions: number; feedConsumers: number; renderCalls: number } {
    return {
      calls: { ...this.calls },
      subscribers: this.#playlists?.subscribers ?? 0,
      relayed: this.#playlists?.relayed ?? 0,
      applied: this.#playlists?.applied ?? 0,
      batchesSent: this.#viewers?.sent ?? 0,
      exchanged: this.#relaySessions?.exchanged ?? 0,
      sessions: this.#counter.size,
      feedConsumers: this.ctx.getWebSockets().length,
      renderCalls: this.#renders?.upstreamCalls ?? 0,
    };
  }

  /** The relays, made on the first call (the object learns its name from its callers: ids made from names do not carry them back). */
  #relays(name: string): { playlists: PlaylistRelay; viewers: ViewerRelay } {
    if (!this.#role) {
      const role = shardRole(name);
      if (!role) throw new Error(`not a shard name: ${name}`);
      this.#role = role;
      this.#renders = new SharedRenders(role.kind === 'edge' ? EDGE_RENDER_REUSE_MS : RELAY_RENDER_REUSE_MS);
      this.#playlists = new PlaylistRelay((windowSegments, seconds) => this.#upstreamPlaylists(windowSegments, seconds), {
        onFeed: (text) => {
          for (const ws of this.ctx.getWebSockets()) this.#send(ws, text);
        },
        hold: () => this.ctx.getWebSockets().length > 0,
        stamp: role.kind === 'edge',
      });
      if (role.kind === 'relay') this.#relaySessions = new RelaySessions(this.#counter, role.index, this.#relayCount, (relay, list) => this.#toRelay(relay, list));
      this.#viewers = new ViewerRelay((batch, isolates) => this.#upstreamViewers(batch, isolates), {
        refreshMs: role.kind === 'edge' ? SESSION_REFRESH_MS : 0,
        // An edge shard sends once a second; a relay reports every RELAY_REPORT_MS while it counts anyone, so its counts age out as viewers leave.
        ...(role.kind === 'relay' ? { intervalMs: RELAY_REPORT_MS } : {}),
        keepSending: () => role.kind === 'relay' && this.#counter.size > 0,
      });
    }
    return { playlists: this.#playlists!, viewers: this.#viewers! };
  }

  get #relayCount(): number {
    return (this.#fanoutSettings ??= parseFanoutSettings(this.env)).relays;
  }

  /** An exchange batch to relay `relay` of this relay's stream. */
  async #toRelay(relay: number, sessions: PackedSessions): Promise<void> {
    const role = this.#role as ShardRole & { kind: 'relay' };
    const name = relayShardName(role.streamId, relay);
    await shardStub(this.env, name).recordViewers(name, exchangeSource(role.index), 0, { sessions, qoe: emptyQoe() });
  }

  /** The relay this location's edge shard subscribes through. */
  #relayOf(role: ShardRole & { kind: 'edge' }): { name: string; stub: DurableObjectStub<StreamShard> } {
    const name = relayShardName(role.streamId, relayIndex(role.location, this.#relayCount));
    return { name, stub: shardStub(this.env, name) };
  }

  #upstreamPlaylists(windowSegments: number, seconds: number): Promise<ReadableStream<Uint8Array>> {
    const role = this.#role!;
    if (role.kind === 'relay') return streamStub(this.env, role.streamId).subscribePlaylists(windowSegments, seconds, relayShardName(role.streamId, role.index), true);
    const relay = this.#relayOf(role);
    return relay.stub.subscribePlaylists(relay.name, windowSegments, seconds, true);
  }

  async #upstreamViewers(batch: PackedViewerBatch, isolates: number): Promise<void> {
    const role = this.#role!;
    if (role.kind === 'relay') {
      const now = Date.now();
      const counts = this.#counter.report(now, this.#window.windowMs, now - this.#window.forgetMs);
      const answer = await streamStub(this.env, role.streamId).recordRelayCounts(role.index, { ...counts, qoe: batch.qoe, isolates });
      if (answer.ok) {
        this.#window = { windowMs: answer.value.windowMs, forgetMs: answer.value.forgetMs };
        this.#engaged = answer.value.fanout;
      }
      else if (answer.code !== 'stream_not_found') console.warn(`fan-out: relay report refused: ${answer.code} ${answer.message}`);
      return;
    }
    // All of it to this location's relay, which passes the other relays their partitions (session-exchange.ts).
    const home = this.#relayOf(role);
    const answer = await home.stub.recordViewers(home.name, `e:${role.location}`, isolates, batch);
    this.#engaged = answer.fanout;
  }
}
