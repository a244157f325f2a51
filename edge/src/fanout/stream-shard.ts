/**
 * A fan-out shard of one popular stream (issue 14): an edge shard per location or a relay shard
 * (shard-names.ts). It holds copies the StreamDO pushed and batches it merged, never decides any
 * state: the playlist push is passed on (playlist-relay.ts), viewer batches are merged and sent on
 * once a second (viewer-relay.ts). Nothing is stored: a shard that restarts opens its upstream
 * again at the next subscription and loses at most one second of viewer batches, which the next
 * polls bring back.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { streamStub } from '../stream-do/stream-stub.ts';
import type { ViewerBatch } from '../viewers/viewer-batch.ts';
import { parseFanoutSettings } from './fanout-settings.ts';
import { PlaylistRelay } from './playlist-relay.ts';
import { relayIndex, relayShardName, shardRole, type ShardRole } from './shard-names.ts';
import { ViewerRelay } from './viewer-relay.ts';

/** An edge shard passes a session on again after this long on the same rendition (a third of the 6 s viewer window). */
const SESSION_REFRESH_MS = 2000;

/** Calls a shard answered, by method (the scale simulation reads them). */
export interface ShardCalls {
  subscribePlaylists: number;
  recordViewers: number;
}

export class StreamShard extends DurableObject<Env> {
  #role: ShardRole | null = null;
  #playlists: PlaylistRelay | null = null;
  #viewers: ViewerRelay | null = null;
  readonly calls: ShardCalls = { subscribePlaylists: 0, recordViewers: 0 };

  /** The stream's playlist push, passed on (the first message once upstream answered). */
  async subscribePlaylists(name: string, windowSegments: number, seconds: number): Promise<ReadableStream<Uint8Array>> {
    this.calls.subscribePlaylists++;
    return this.#relays(name).playlists.subscribe(windowSegments, seconds);
  }

  /** A viewer batch from an isolate (`isolates` = 1) or an edge shard (the isolates it serves). */
  recordViewers(name: string, source: string, isolates: number, batch: ViewerBatch): void {
    this.calls.recordViewers++;
    this.#relays(name).viewers.add(source, isolates, batch, Date.now());
  }

  /** Calls answered and what the shard holds now (the scale simulation; tests). */
  stats(): { calls: ShardCalls; subscribers: number; relayed: number; batchesSent: number } {
    return { calls: { ...this.calls }, subscribers: this.#playlists?.subscribers ?? 0, relayed: this.#playlists?.relayed ?? 0, batchesSent: this.#viewers?.sent ?? 0 };
  }

  /** The relays, made on the first call (the object learns its name from its callers: ids made from names do not carry them back). */
  #relays(name: string): { playlists: PlaylistRelay; viewers: ViewerRelay } {
    if (!this.#role) {
      const role = shardRole(name);
      if (!role) throw new Error(`not a shard name: ${name}`);
      this.#role = role;
      this.#playlists = new PlaylistRelay((windowSegments, seconds) => this.#upstreamPlaylists(windowSegments, seconds));
      this.#viewers = new ViewerRelay((batch, isolates) => this.#upstreamViewers(batch, isolates), { refreshMs: role.kind === 'edge' ? SESSION_REFRESH_MS : 0 });
    }
    return { playlists: this.#playlists!, viewers: this.#viewers! };
  }

  #relayOf(role: ShardRole & { kind: 'edge' }): { name: string; stub: DurableObjectStub<StreamShard> } {
    const name = relayShardName(role.streamId, relayIndex(role.location, parseFanoutSettings(this.env).relays));
    return { name, stub: this.env.STREAM_SHARD.get(this.env.STREAM_SHARD.idFromName(name)) };
  }

  #upstreamPlaylists(windowSegments: number, seconds: number): Promise<ReadableStream<Uint8Array>> {
    const role = this.#role!;
    if (role.kind === 'relay') return streamStub(this.env, role.streamId).subscribePlaylists(windowSegments, seconds, relayShardName(role.streamId, role.index));
    const relay = this.#relayOf(role);
    return relay.stub.subscribePlaylists(relay.name, windowSegments, seconds);
  }

  async #upstreamViewers(batch: ViewerBatch, isolates: number): Promise<void> {
    const role = this.#role!;
    if (role.kind === 'relay') {
      const answer = await streamStub(this.env, role.streamId).recordViewers(batch, { source: relayShardName(role.streamId, role.index), isolates });
      if (!answer.ok && answer.code !== 'stream_not_found') console.warn(`fan-out: relay batch refused: ${answer.code} ${answer.message}`);
      return;
    }
    const relay = this.#relayOf(role);
    await relay.stub.recordViewers(relay.name, `e:${role.location}`, isolates, batch);
  }
}
