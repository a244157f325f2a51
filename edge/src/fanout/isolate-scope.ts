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

export class IsolateScope {
  /** Live playlists pushed by StreamDOs (or shards). */
  readonly copies = new StreamCopies();
  /** Playlists rendered or read lately, and renders in flight (one per URL). */
  readonly recentPlaylists = new RecentPlaylists();
  readonly playlists = new Coalescer<RenderedPlaylist>();
  readonly viewers = new ViewerAggregator();
  readonly beacons = new BeaconLimiter();
  constructor(readonly id: string) {}
}

let own: IsolateScope | null = null;
const simulated = new Map<string, IsolateScope>();

/** This request's isolate scope. */
export function isolateScope(c: Context<AppEnv>): IsolateScope {
  const sim = c.req.header(SIM_ISOLATE_HEADER);
  if (sim && SIM_ID.test(sim) && c.var.settings.environment === 'development') {
    let scope = simulated.get(sim);
    if (scope) simulated.delete(sim);
    else if (simulated.size >= MAX_SIMULATED) simulated.delete(simulated.keys().next().value!);
    scope ??= new IsolateScope(`sim-${sim}`);
    simulated.set(sim, scope);
    return scope;
  }
  own ??= new IsolateScope(isolateIdentity().id);
  return own;
}
