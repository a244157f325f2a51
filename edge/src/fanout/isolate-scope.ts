/**
 * What one Worker isolate keeps for all the requests it serves: its identity (towards the fan-out
 * tier), its pushed playlist copies, recent playlists and renders in flight, its viewer batches and
 * its beacon rate limit. In production
 * there is one scope per isolate. In development the scale simulation plays many isolates in one
 * by naming one per request (`X-Edgelive-Sim-Isolate`), each with its own scope.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { Coalescer } from '../playback/coalescer.ts';
import type { RenderedPlaylist } from '../playback/playlist-response.ts';
import { StreamCopies } from '../playback/pushed-playlists.ts';
import { RecentPlaylists } from '../playback/recent-playlists.ts';
import { BeaconLimiter } from '../viewers/beacon-limiter.ts';
import { isolateIdentity } from '../viewers/edge-stats.ts';
import { ViewerAggregator } from '../viewers/viewer-aggregator.ts';

export const SIM_ISOLATE_HEADER = 'X-Edgelive-Sim-Isolate';
const SIM_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Simulated isolates kept at once (the least recently used is dropped). */
const MAX_SIMULATED = 20_000;
/** Streams whose flush answers one isolate remembers. */
const MAX_STREAMS = 1024;

export class IsolateScope {
  /** Live playlists pushed by StreamDOs (or shards). */
  readonly copies = new StreamCopies();
  /** Playlists rendered or read lately, and renders in flight (one per URL). */
  readonly recentPlaylists = new RecentPlaylists();
  readonly playlists = new Coalescer<RenderedPlaylist>();
  readonly viewers = new ViewerAggregator();
  readonly beacons = new BeaconLimiter();
  /** Whether each stream's tier is engaged, as the StreamDO last answered a viewer flush (for streams with no pushed copy here). */
  readonly #flushAnswers = new Map<string, boolean>();
  constructor(readonly id: string) {}

  /** Whether this isolate flushes and subscribes through its edge shard for `streamId`: the pushed state says, else the last flush answer. */
  throughShard(streamId: string): boolean {
    return this.copies.fanout(streamId) ?? this.#flushAnswers.get(streamId) ?? false;
  }

  /** The StreamDO answered a viewer flush. */
  noteFlushAnswer(streamId: string, fanout: boolean): void {
    this.#flushAnswers.delete(streamId);
    if (this.#flushAnswers.size >= MAX_STREAMS) this.#flushAnswers.delete(this.#flushAnswers.keys().next().value!);
    this.#flushAnswers.set(streamId, fanout);
  }
}

let own: IsolateScope | null = null;
const simulated = new Map<string, IsolateScope>();

/** The scope of simulated isolate `name` (development only: the caller checks). */
export function isolateScopeNamed(name: string): IsolateScope {
  let scope = simulated.get(name);
  if (scope) simulated.delete(name);
  else if (simulated.size >= MAX_SIMULATED) simulated.delete(simulated.keys().next().value!);
  scope ??= new IsolateScope(`sim-${name}`);
  simulated.set(name, scope);
  return scope;
}

/** This request's isolate scope. */
export function isolateScope(c: Context<AppEnv>): IsolateScope {
  const sim = c.req.header(SIM_ISOLATE_HEADER);
  if (sim && SIM_ID.test(sim) && c.var.settings.environment === 'development') return isolateScopeNamed(sim);
  own ??= new IsolateScope(isolateIdentity().id);
  return own;
}
